using System;
using TypedZmq.Client;
using TypedZmq.Internal;
using TypedZmq.Sockets;

namespace TypedZmq;

/// <summary>
/// A connection to a TypedZmq server, from which typed proxies are created.
/// </summary>
/// <remarks>
/// <para>
/// A client is safe to share between threads. By default (<see cref="RpcChannelKind.Request"/>) it uses one ZeroMQ
/// REQ socket and makes one call at a time, in turn; with <see cref="RpcChannelKind.Multiplexed"/> any number of calls
/// are in flight at once over one DEALER socket. A call that gets no reply within its timeout fails with
/// <see cref="RpcStatus.DeadlineExceeded"/>, and the client stays usable.
/// </para>
/// <para>Dispose the client to close its socket; calls still waiting fail promptly with <see cref="RpcStatus.Cancelled"/>.</para>
/// </remarks>
/// <example>
/// <code>
/// using var client = new RpcClient("tcp://localhost:5555");
/// IGreeter greeter = client.CreateProxy&lt;IGreeter&gt;();
/// Console.WriteLine(greeter.SayHello("World"));
/// </code>
/// </example>
public sealed class RpcClient : IDisposable
{
    private readonly RpcChannel _channel;
    private volatile bool _disposed;

    /// <summary>Creates a client for the server at <paramref name="endpoint"/> with default options.</summary>
    /// <param name="endpoint">For example <c>tcp://localhost:5555</c> or <c>inproc://greeter</c>.</param>
    /// <exception cref="ArgumentException"><paramref name="endpoint"/> is not a valid ZeroMQ endpoint.</exception>
    public RpcClient(string endpoint)
        : this(new RpcClientOptions { Endpoint = endpoint })
    {
    }

    /// <summary>Creates a client with explicit options.</summary>
    /// <param name="options">The endpoint and the call timeout.</param>
    /// <exception cref="ArgumentException">The endpoint is not a valid ZeroMQ endpoint.</exception>
    public RpcClient(RpcClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.Endpoint))
        {
            throw new ArgumentException("An endpoint such as tcp://localhost:5555 is required.", nameof(options));
        }

        foreach (string endpoint in options.Endpoints)
        {
            Endpoints.Validate(endpoint, nameof(options), "tcp://localhost:5555");
        }

        if (options.EndpointResolver is not null && options.Channel != RpcChannelKind.Multiplexed)
        {
            throw new ArgumentException(
                "An EndpointResolver needs the multiplexed channel (Channel = RpcChannelKind.Multiplexed): it connects to and " +
                "disconnects from servers while calls run, which a request channel's one-call socket cannot.",
                nameof(options));
        }

        if (options.ResolveInterval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.ResolveInterval, "ResolveInterval must be positive.");
        }

        Heartbeats.Validate(options.HeartbeatInterval, options.HeartbeatTimeout, nameof(RpcClientOptions));
        if (options.LoadBalancing is not (RpcLoadBalancing.LeastInFlight or RpcLoadBalancing.RoundRobin))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.LoadBalancing, "LoadBalancing must be LeastInFlight or RoundRobin.");
        }

        Options = options;
        try
        {
            _channel = options.Channel == RpcChannelKind.Multiplexed
                ? new MultiplexedChannel(options)
                : new RequestChannel(options);
        }
        catch (Exception ex)
        {
            throw new ArgumentException(
                $"Cannot connect to '{options.Endpoint}': {ex.Message} Use an endpoint such as tcp://localhost:5555 or inproc://name.",
                nameof(options),
                ex);
        }
    }

    /// <summary>The options this client was created with.</summary>
    public RpcClientOptions Options { get; }

    /// <summary>Creates a proxy that implements <typeparamref name="TService"/> by calling the server.</summary>
    /// <typeparam name="TService">An interface marked with <see cref="RpcServiceAttribute"/>.</typeparam>
    /// <returns>A proxy; cheap to create, and safe to share between threads.</returns>
    /// <exception cref="InvalidOperationException">No proxy was generated for <typeparamref name="TService"/>.</exception>
    public TService CreateProxy<TService>()
        where TService : class
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return RpcServiceRegistry.GetProxyFactory<TService>()(_channel);
    }

    /// <summary>Closes the socket. Calls still waiting for a reply fail promptly; the process never waits on unsent requests.</summary>
    public void Dispose()
    {
        _disposed = true;
        ((IDisposable)_channel).Dispose();
    }
}
