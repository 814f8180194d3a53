using System;

namespace TypedZmq;

/// <summary>Settings of an <see cref="RpcServer"/>.</summary>
public sealed class RpcServerOptions
{
    /// <summary>The default for <see cref="MaxMessageSize"/>: 64 MiB.</summary>
    public const long DefaultMaxMessageSize = 64L * 1024 * 1024;

    private long _maxMessageSize = DefaultMaxMessageSize;

    /// <summary>
    /// Where to listen, for example <c>tcp://*:5555</c>, <c>tcp://127.0.0.1:0</c> (any free port: read
    /// <see cref="RpcServer.BoundEndpoint"/> after <see cref="RpcServer.Start"/>) or <c>inproc://greeter</c>.
    /// </summary>
    public required string Endpoint { get; init; }

    /// <summary>
    /// Send the server-side stack trace of a failing implementation to clients
    /// (<see cref="RpcException.RemoteStackTrace"/>). Off by default: stack traces can reveal internals.
    /// </summary>
    public bool IncludeExceptionDetails { get; init; }

    /// <summary>
    /// The largest request frame the server accepts, in bytes. ZeroMQ drops a larger message and disconnects its
    /// sender, so a client that sends one times out; the server carries on serving others. Default 64 MiB.
    /// </summary>
    public long MaxMessageSize
    {
        get => _maxMessageSize;
        init
        {
            if (value <= 0)
            {
                throw new ArgumentOutOfRangeException(nameof(MaxMessageSize), value, "The maximum message size must be positive.");
            }

            _maxMessageSize = value;
        }
    }
}
