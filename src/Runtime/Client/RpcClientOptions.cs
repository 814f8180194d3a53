using System;
using System.Collections.Generic;

namespace TypedZmq;

/// <summary>Settings of an <see cref="RpcClient"/>.</summary>
public sealed class RpcClientOptions
{
    /// <summary>The default for <see cref="Timeout"/>: 10 seconds.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    private TimeSpan _timeout = DefaultTimeout;
    private int _maxAttempts = 3;
    private TimeSpan _retryBackoff = TimeSpan.FromMilliseconds(100);
    private long _maxMessageSize = RpcServerOptions.DefaultMaxMessageSize;
    private int _streamCredit = 64;
    private int? _maxCallsInFlightPerServer;

    /// <summary>
    /// The server to connect to, for example <c>tcp://localhost:5555</c> or <c>inproc://greeter</c>, or several
    /// servers separated by commas (<c>tcp://a:5555,tcp://b:5555</c>): calls then go to the servers that are up, in
    /// turn, and a retried call may go to another one. ZeroMQ connects lazily: a server that is not up yet is not an
    /// error until a call times out.
    /// </summary>
    public required string Endpoint { get; init; }

    /// <summary>
    /// How many times an idempotent call (<see cref="RpcMethodAttribute.Idempotent"/>) is tried in all when it times out
    /// or the server is unavailable. Each attempt gets the full <see cref="Timeout"/>. Default 3; 1 disables retries.
    /// </summary>
    public int MaxAttempts
    {
        get => _maxAttempts;
        init => _maxAttempts = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(MaxAttempts), value, "At least one attempt is needed.");
    }

    /// <summary>The pause before the first retry; it doubles before each further one. Default 100 ms.</summary>
    public TimeSpan RetryBackoff
    {
        get => _retryBackoff;
        init => _retryBackoff = value >= TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(nameof(RetryBackoff), value, "Must not be negative.");
    }

    /// <summary>
    /// Retry calls that are not idempotent too. Turn this on only against servers that deduplicate requests
    /// (<see cref="RpcServerOptions.ReplyCacheSize"/>): a retry carries the same request id, and such a server answers
    /// it from its cache instead of running the call twice. Default off.
    /// </summary>
    public bool RetryNonIdempotentCalls { get; init; }

    /// <summary>
    /// The largest message this client sends or accepts, in bytes. A request over it fails at once with
    /// <see cref="RpcStatus.BadRequest"/> without being sent; ZeroMQ drops a larger reply. Default 64 MiB, like the server.
    /// </summary>
    public long MaxMessageSize
    {
        get => _maxMessageSize;
        init => _maxMessageSize = value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(MaxMessageSize), value, "Must be positive.");
    }

    /// <summary>
    /// Where the client logs (see docs/observability.md for the events). Null (default): it logs nothing and allocates
    /// nothing for logging.
    /// </summary>
    public Microsoft.Extensions.Logging.ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>
    /// Where the set of servers comes from when it changes while the client runs (pods of a Kubernetes headless service,
    /// instances in Consul): asked every <see cref="ResolveInterval"/>, and the multiplexed channel connects to new
    /// endpoints and disconnects from removed ones. <see cref="Endpoint"/> is still what the client connects to first.
    /// Needs <see cref="RpcChannelKind.Multiplexed"/>. Null (default): the endpoints never change.
    /// </summary>
    public IRpcEndpointResolver? EndpointResolver { get; init; }

    /// <summary>How often <see cref="EndpointResolver"/> is asked. Default 30 seconds.</summary>
    public TimeSpan ResolveInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Which server the multiplexed channel sends each call to when it has several (see docs/scaling.md). Default
    /// <see cref="RpcLoadBalancing.LeastInFlight"/>: the one with the fewest of this client's calls in flight, so a
    /// slow or stalled server is given less work. The request channel always takes the next connected server in turn.
    /// </summary>
    public RpcLoadBalancing LoadBalancing { get; init; } = RpcLoadBalancing.LeastInFlight;

    /// <summary>
    /// The most calls the multiplexed channel keeps in flight on one server; further calls wait in the client, oldest
    /// first, until a server has room, and fail with <see cref="RpcStatus.DeadlineExceeded"/> (saying they did not run)
    /// if none has before their deadline. Set it near what a server runs at once (its
    /// <see cref="RpcServerOptions.MaxConcurrentCalls"/>) so that calls queue where any free server can take them, not
    /// behind a slow server's backlog (see docs/scaling.md). Null (default): no bound.
    /// </summary>
    public int? MaxCallsInFlightPerServer
    {
        get => _maxCallsInFlightPerServer;
        init => _maxCallsInFlightPerServer = value is null or > 0 ? value : throw new ArgumentOutOfRangeException(nameof(MaxCallsInFlightPerServer), value, "Must be positive, or null for no bound.");
    }

    /// <summary>
    /// How many items of a stream (a method returning <c>IAsyncEnumerable&lt;T&gt;</c>) the client asks for in one pull:
    /// the server's producer never runs more than this ahead of what the client has asked for, so a slow reader bounds
    /// the server's memory (docs/streams.md). Larger values mean fewer round trips for streams of small items; every
    /// chunk must fit <see cref="MaxMessageSize"/>. Default 64; 1 to 65,536.
    /// </summary>
    public int StreamCredit
    {
        get => _streamCredit;
        init => _streamCredit = value is >= 1 and <= 65_536 ? value : throw new ArgumentOutOfRangeException(nameof(StreamCredit), value, "Must be 1 to 65,536.");
    }

    /// <summary>
    /// Secure mode: seal every request with this client's key for the pinned server key, and accept only replies that
    /// server sealed (see <see cref="RpcClientSecurity"/> and docs/security.md). Null (default): plain messages.
    /// </summary>
    public RpcClientSecurity? Security { get; init; }

    /// <summary>
    /// How often the multiplexed channel's socket pings an idle connection (ZeroMQ heartbeats). Together with
    /// <see cref="HeartbeatTimeout"/> it bounds how long a connection that went silent (a network that dropped it, a
    /// machine that vanished) goes unnoticed; the channel then fails the calls in flight on it with
    /// <see cref="RpcStatus.Unavailable"/> (or retries them) instead of waiting for their deadlines. A connection the
    /// server's side closes (its process ended) is noticed at once, heartbeats or not. Default 1 second;
    /// <see cref="TimeSpan.Zero"/> turns heartbeats off. The request channel does not use them. See docs/reliability.md.
    /// </summary>
    public TimeSpan HeartbeatInterval { get; init; } = Sockets.Heartbeats.DefaultInterval;

    /// <summary>
    /// How long a connection may stay silent after a ping before it counts as lost. Default 5 seconds. Keep it above
    /// the time one message takes to cross the network (a large message on a slow link), since ZeroMQ counts a
    /// message only once all of it has arrived.
    /// </summary>
    public TimeSpan HeartbeatTimeout { get; init; } = Sockets.Heartbeats.DefaultTimeout;

    /// <summary>
    /// Code that runs around every call, in order: the first is the outermost. Add them before creating the
    /// <see cref="RpcClient"/>; see <see cref="RpcClientInterceptor"/>. With none (the default) a call takes the
    /// shortest path.
    /// </summary>
    public IList<RpcClientInterceptor> Interceptors { get; } = new List<RpcClientInterceptor>();

    internal string[] Endpoints => Endpoint.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Several servers, now or later (a resolver): sends then go only to servers whose connection is up.</summary>
    internal bool HasSeveralServers => Endpoints.Length > 1 || EndpointResolver is not null;

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
