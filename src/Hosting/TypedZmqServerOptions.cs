using System;

namespace TypedZmq.Hosting;

/// <summary>
/// A hosted server's settings, bindable from configuration (for example a section of <c>appsettings.json</c>); they
/// become an <see cref="RpcServerOptions"/> when the host starts, after validation.
/// </summary>
public sealed class TypedZmqServerOptions
{
    /// <summary>Where to listen, for example <c>tcp://*:5555</c>. Required.</summary>
    public string? Endpoint { get; set; }

    /// <summary>The server kind; see <see cref="RpcServerOptions.Kind"/>.</summary>
    public RpcServerKind Kind { get; set; } = RpcServerKind.Reply;

    /// <summary>See <see cref="RpcServerOptions.MaxConcurrentCalls"/>.</summary>
    public int MaxConcurrentCalls { get; set; } = 1024;

    /// <summary>See <see cref="RpcServerOptions.MaxQueuedRequests"/>.</summary>
    public int MaxQueuedRequests { get; set; } = 10_000;

    /// <summary>See <see cref="RpcServerOptions.MaxCallsPerPeer"/>.</summary>
    public int MaxCallsPerPeer { get; set; } = 1024;

    /// <summary>See <see cref="RpcServerOptions.MaxOpenStreams"/>.</summary>
    public int MaxOpenStreams { get; set; } = 1000;

    /// <summary>See <see cref="RpcServerOptions.MaxOpenStreamsPerPeer"/>.</summary>
    public int MaxOpenStreamsPerPeer { get; set; } = 100;

    /// <summary>See <see cref="RpcServerOptions.StreamIdleTimeout"/>.</summary>
    public TimeSpan StreamIdleTimeout { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// See <see cref="RpcServerOptions.StopTimeout"/>. The host's own shutdown timeout still applies: the server stops
    /// draining when the host stops waiting.
    /// </summary>
    public TimeSpan StopTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>See <see cref="RpcServerOptions.ReplyCacheSize"/>.</summary>
    public int ReplyCacheSize { get; set; }

    /// <summary>See <see cref="RpcServerOptions.MaxMessageSize"/>.</summary>
    public long MaxMessageSize { get; set; } = RpcServerOptions.DefaultMaxMessageSize;

    /// <summary>See <see cref="RpcServerOptions.IncludeExceptionDetails"/>.</summary>
    public bool IncludeExceptionDetails { get; set; }

    /// <summary>See <see cref="RpcServerOptions.HeartbeatInterval"/>.</summary>
    public TimeSpan HeartbeatInterval { get; set; }

    /// <summary>See <see cref="RpcServerOptions.HeartbeatTimeout"/>.</summary>
    public TimeSpan HeartbeatTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Secure mode (set in code: keys are not configuration); see <see cref="RpcServerOptions.Security"/>.</summary>
    public RpcServerSecurity? Security { get; set; }
}
