using System;

namespace TypedZmq.Hosting;

/// <summary>
/// A DI client's settings, bindable from configuration; they become an <see cref="RpcClientOptions"/> the first time a
/// proxy is resolved, after validation.
/// </summary>
public sealed class TypedZmqClientOptions
{
    /// <summary>The server (or comma-separated servers) to call, for example <c>tcp://orders:5555</c>. Required.</summary>
    public string? Endpoint { get; set; }

    /// <summary>See <see cref="RpcClientOptions.Channel"/>.</summary>
    public RpcChannelKind Channel { get; set; } = RpcChannelKind.Request;

    /// <summary>See <see cref="RpcClientOptions.Timeout"/>.</summary>
    public TimeSpan Timeout { get; set; } = RpcClientOptions.DefaultTimeout;

    /// <summary>See <see cref="RpcClientOptions.MaxAttempts"/>.</summary>
    public int MaxAttempts { get; set; } = 3;

    /// <summary>See <see cref="RpcClientOptions.RetryBackoff"/>.</summary>
    public TimeSpan RetryBackoff { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>See <see cref="RpcClientOptions.RetryNonIdempotentCalls"/>.</summary>
    public bool RetryNonIdempotentCalls { get; set; }

    /// <summary>See <see cref="RpcClientOptions.MaxMessageSize"/>.</summary>
    public long MaxMessageSize { get; set; } = RpcServerOptions.DefaultMaxMessageSize;

    /// <summary>See <see cref="RpcClientOptions.LoadBalancing"/>.</summary>
    public RpcLoadBalancing LoadBalancing { get; set; } = RpcLoadBalancing.LeastInFlight;

    /// <summary>See <see cref="RpcClientOptions.MaxCallsInFlightPerServer"/>.</summary>
    public int? MaxCallsInFlightPerServer { get; set; }

    /// <summary>See <see cref="RpcClientOptions.StreamCredit"/>.</summary>
    public int StreamCredit { get; set; } = 64;

    /// <summary>See <see cref="RpcClientOptions.HeartbeatInterval"/>.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>See <see cref="RpcClientOptions.HeartbeatTimeout"/>.</summary>
    public TimeSpan HeartbeatTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Secure mode (set in code: keys are not configuration); see <see cref="RpcClientOptions.Security"/>.</summary>
    public RpcClientSecurity? Security { get; set; }
}
