using TypedZmq.Tests.Contracts;

namespace TypedZmq.Tests.Infrastructure;

/// <summary>A running <see cref="RpcServer"/> hosting <see cref="Shapes"/> on a fresh endpoint, plus clients to it.</summary>
public sealed class TestServer : IDisposable
{
    private readonly List<IDisposable> _owned = [];

    private TestServer(Transport transport, RpcServerOptions? options)
    {
        string endpoint = transport == Transport.Tcp
            ? "tcp://127.0.0.1:0"
            : $"inproc://typedzmq-test-{Guid.NewGuid():N}";
        // Tests pass options with a placeholder endpoint; the real one is chosen here, unique per test.
        Server = new RpcServer(WithEndpoint(options ?? new RpcServerOptions { Endpoint = endpoint }, endpoint));
        Server.AddService<IShapes>(Implementation);
        Server.Start();
        Endpoint = Server.BoundEndpoint!;
    }

    public Shapes Implementation { get; } = new();

    /// <summary>
    /// A copy of <paramref name="template"/> on <paramref name="endpoint"/>: every setting, interceptors included
    /// (<c>TestServerTests</c> fails when a new setting is not copied here).
    /// </summary>
    public static RpcServerOptions WithEndpoint(RpcServerOptions template, string endpoint)
    {
        var options = new RpcServerOptions
        {
            Endpoint = endpoint,
            Kind = template.Kind,
            IncludeExceptionDetails = template.IncludeExceptionDetails,
            MaxMessageSize = template.MaxMessageSize,
            MaxConcurrentCalls = template.MaxConcurrentCalls,
            MaxQueuedRequests = template.MaxQueuedRequests,
            StopTimeout = template.StopTimeout,
            ReplyCacheSize = template.ReplyCacheSize,
            MaxCallsPerPeer = template.MaxCallsPerPeer,
            MaxOpenStreams = template.MaxOpenStreams,
            MaxOpenStreamsPerPeer = template.MaxOpenStreamsPerPeer,
            StreamIdleTimeout = template.StreamIdleTimeout,
            Security = template.Security,
            LoggerFactory = template.LoggerFactory,
            HeartbeatInterval = template.HeartbeatInterval,
            HeartbeatTimeout = template.HeartbeatTimeout,
            ConnectToEndpoint = template.ConnectToEndpoint,
        };
        foreach (RpcServerInterceptor interceptor in template.Interceptors)
        {
            options.Interceptors.Add(interceptor);
        }

        return options;
    }

    public RpcServer Server { get; }

    public string Endpoint { get; }

    public static TestServer Start(Transport transport, RpcServerOptions? options = null) => new(transport, options);

    public static TestServer Start(Transport transport, RpcServerKind kind) =>
        new(transport, new RpcServerOptions { Endpoint = "set by TestServer", Kind = kind });

    public RpcClient Client(TimeSpan? timeout = null, RpcChannelKind channel = RpcChannelKind.Request)
    {
        var client = new RpcClient(new RpcClientOptions
        {
            Endpoint = Endpoint,
            Timeout = timeout ?? TimeSpan.FromSeconds(10),
            Channel = channel,
        });
        _owned.Add(client);
        return client;
    }

    public IShapes Proxy(TimeSpan? timeout = null, RpcChannelKind channel = RpcChannelKind.Request) =>
        Client(timeout, channel).CreateProxy<IShapes>();

    public void Dispose()
    {
        foreach (IDisposable owned in _owned)
        {
            owned.Dispose();
        }

        Server.Dispose();
    }
}
