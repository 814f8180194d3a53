using System;
using System.Collections.Generic;

namespace TypedZmq;

/// <summary>Settings of an <see cref="RpcServer"/>.</summary>
public sealed class RpcServerOptions
{
    /// <summary>The default for <see cref="MaxMessageSize"/>: 64 MiB.</summary>
    public const long DefaultMaxMessageSize = 64L * 1024 * 1024;

    private long _maxMessageSize = DefaultMaxMessageSize;
    private int _maxOpenStreams = 1000;
    private int _maxOpenStreamsPerPeer = 100;
    private TimeSpan _streamIdleTimeout = TimeSpan.FromMinutes(1);
    private int _maxConcurrentCalls = 1024;
    private int _maxQueuedRequests = 10_000;
    private int _maxCallsPerPeer = 1024;
    private TimeSpan _stopTimeout = TimeSpan.FromSeconds(5);
    private int _replyCacheSize;

    /// <summary>
    /// Where to listen, for example <c>tcp://*:5555</c>, <c>tcp://127.0.0.1:0</c> (any free port: read
    /// <see cref="RpcServer.BoundEndpoint"/> after <see cref="RpcServer.Start"/>) or <c>inproc://greeter</c>.
    /// </summary>
    public required string Endpoint { get; init; }

    /// <summary>
    /// Connect to <see cref="Endpoint"/> instead of binding it: a worker behind a broker (for example
    /// <c>samples/Broker</c>, NetMQ's <c>Proxy</c> between a ROUTER for clients and a DEALER for workers), so that workers
    /// come and go behind one stable address. Off by default. See docs/scaling.md, "Workers behind a broker".
    /// </summary>
    public bool ConnectToEndpoint { get; init; }

    /// <summary>
    /// <see cref="RpcServerKind.Reply"/> (default; one request at a time) or <see cref="RpcServerKind.Concurrent"/>
    /// (many requests in flight).
    /// </summary>
    public RpcServerKind Kind { get; init; } = RpcServerKind.Reply;

    /// <summary>
    /// For a <see cref="RpcServerKind.Concurrent"/> server: how many calls may be running at once (asynchronous
    /// implementations awaiting something). Default 1024.
    /// </summary>
    public int MaxConcurrentCalls
    {
        get => _maxConcurrentCalls;
        init => _maxConcurrentCalls = value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(MaxConcurrentCalls), value, "Must be positive.");
    }

    /// <summary>
    /// For a <see cref="RpcServerKind.Concurrent"/> server: how many requests may wait for a free slot when
    /// <see cref="MaxConcurrentCalls"/> are running. Beyond that a request gets <see cref="RpcStatus.Unavailable"/> at
    /// once instead of being dropped. Default 10,000.
    /// </summary>
    public int MaxQueuedRequests
    {
        get => _maxQueuedRequests;
        init => _maxQueuedRequests = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(MaxQueuedRequests), value, "Must not be negative.");
    }

    /// <summary>
    /// How long <see cref="RpcServer.Stop"/> waits for calls in flight to finish (new requests are refused meanwhile)
    /// before it cancels them and closes the socket. Default 5 seconds.
    /// </summary>
    public TimeSpan StopTimeout
    {
        get => _stopTimeout;
        init => _stopTimeout = value >= TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(nameof(StopTimeout), value, "Must not be negative.");
    }

    /// <summary>
    /// How many recent replies the server keeps to answer retried requests (same request id) without running them
    /// again: at-most-once execution for clients that retry calls that are not idempotent. 0 (default) keeps none.
    /// A retry that arrives while the first attempt still runs is told <see cref="RpcStatus.Unavailable"/>, and
    /// retries again later.
    /// </summary>
    public int ReplyCacheSize
    {
        get => _replyCacheSize;
        init => _replyCacheSize = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(ReplyCacheSize), value, "Must not be negative.");
    }

    /// <summary>
    /// Code that runs around every call, in order: the first is the outermost. Add them before the server starts; see
    /// <see cref="RpcServerInterceptor"/>. With none (the default) a call takes the shortest path.
    /// </summary>
    public IList<RpcServerInterceptor> Interceptors { get; } = new List<RpcServerInterceptor>();

    /// <summary>
    /// How often a concurrent server's socket pings an idle connection (ZeroMQ heartbeats). With
    /// <see cref="HeartbeatTimeout"/> it bounds how long a client that vanished without closing its connection (a
    /// network that went silent) goes unnoticed; the server then cancels that client's running calls and drops its
    /// queued ones. A client whose process ends closes its connection, which the server notices at once without
    /// heartbeats. Off by default (<see cref="TimeSpan.Zero"/>): NetMQ counts a connection whose incoming queue is full
    /// as silent, so a server that falls behind under load would drop live clients (measured: see docs/reliability.md).
    /// Turn it on with a timeout well above the longest time the server may fall behind.
    /// </summary>
    public TimeSpan HeartbeatInterval { get; init; }

    /// <summary>How long a connection may stay silent after a ping before it counts as lost. Default 5 seconds.</summary>
    public TimeSpan HeartbeatTimeout { get; init; } = Sockets.Heartbeats.DefaultTimeout;

    /// <summary>
    /// Where the server logs (see docs/observability.md for the events). Null (default): it logs nothing and allocates
    /// nothing for logging.
    /// </summary>
    public Microsoft.Extensions.Logging.ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>
    /// Secure mode: serve only requests sealed by allowed client keys, and seal every reply (see
    /// <see cref="RpcServerSecurity"/> and docs/security.md). Null (default): plain requests from anyone who can reach
    /// the endpoint.
    /// </summary>
    public RpcServerSecurity? Security { get; init; }

    /// <summary>
    /// For a <see cref="RpcServerKind.Concurrent"/> server: how many calls one connection may have running or queued at
    /// once. Beyond it, that connection's requests get <see cref="RpcStatus.ResourceExhausted"/> at once, so one busy
    /// connection cannot take every slot and the queue from the others. It is a bound per connection, not per client:
    /// a client can open more connections, and calls through a proxy share the proxy's. Default 1024.
    /// </summary>
    public int MaxCallsPerPeer
    {
        get => _maxCallsPerPeer;
        init => _maxCallsPerPeer = value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(MaxCallsPerPeer), value, "Must be positive.");
    }

    /// <summary>
    /// How many streams (methods returning <c>IAsyncEnumerable&lt;T&gt;</c>, see docs/streams.md) may be open on the
    /// server at once. Opening one more is refused with <see cref="RpcStatus.Unavailable"/>. Default 1000.
    /// </summary>
    public int MaxOpenStreams
    {
        get => _maxOpenStreams;
        init => _maxOpenStreams = value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(MaxOpenStreams), value, "Must be positive.");
    }

    /// <summary>
    /// How many streams one connection (one client key, in secure mode) may have open at once; beyond it, opening is
    /// refused with <see cref="RpcStatus.Unavailable"/>. Default 100.
    /// </summary>
    public int MaxOpenStreamsPerPeer
    {
        get => _maxOpenStreamsPerPeer;
        init => _maxOpenStreamsPerPeer = value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(MaxOpenStreamsPerPeer), value, "Must be positive.");
    }

    /// <summary>
    /// How long an open stream may wait for its client's next pull before the server ends it (its producer's token
    /// fires): a client that crashed, or stopped reading without saying so, leaves nothing behind for longer. A pull
    /// that is waiting for items keeps the stream alive. Default 1 minute.
    /// </summary>
    public TimeSpan StreamIdleTimeout
    {
        get => _streamIdleTimeout;
        init => _streamIdleTimeout = value > TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(nameof(StreamIdleTimeout), value, "Must be positive.");
    }

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
