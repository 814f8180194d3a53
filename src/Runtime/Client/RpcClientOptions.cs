using System;

namespace TypedZmq;

/// <summary>Settings of an <see cref="RpcClient"/>.</summary>
public sealed class RpcClientOptions
{
    /// <summary>The default for <see cref="Timeout"/>: 10 seconds.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    private TimeSpan _timeout = DefaultTimeout;

    /// <summary>
    /// The server to connect to, for example <c>tcp://localhost:5555</c> or <c>inproc://greeter</c>.
    /// ZeroMQ connects lazily: a server that is not up yet is not an error until a call times out.
    /// </summary>
    public required string Endpoint { get; init; }

    /// <summary>
    /// How calls travel: <see cref="RpcChannelKind.Request"/> (default; one call at a time) or
    /// <see cref="RpcChannelKind.Multiplexed"/> (many concurrent calls over one connection).
    /// </summary>
    public RpcChannelKind Channel { get; init; } = RpcChannelKind.Request;

    /// <summary>
    /// How long a call waits for its reply (including time queued behind other calls on the same client) before it
    /// fails with <see cref="RpcStatus.DeadlineExceeded"/>. Default 10 seconds;
    /// <see cref="System.Threading.Timeout.InfiniteTimeSpan"/> waits forever. Override per call with
    /// <see cref="RpcCall.WithTimeout(TimeSpan)"/>.
    /// </summary>
    public TimeSpan Timeout
    {
        get => _timeout;
        init
        {
            ValidateTimeout(value, nameof(Timeout));
            _timeout = value;
        }
    }

    internal static void ValidateTimeout(TimeSpan timeout, string paramName)
    {
        if (timeout != System.Threading.Timeout.InfiniteTimeSpan && timeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(
                paramName,
                timeout,
                "A call timeout must be positive, or Timeout.InfiniteTimeSpan to wait without limit.");
        }
    }
}
