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
        Server = new RpcServer(options is null ? new RpcServerOptions { Endpoint = endpoint } : new RpcServerOptions
        {
            Endpoint = endpoint,
            IncludeExceptionDetails = options.IncludeExceptionDetails,
            MaxMessageSize = options.MaxMessageSize,
        });
        Server.AddService<IShapes>(Implementation);
        Server.Start();
        Endpoint = Server.BoundEndpoint!;
    }

    public Shapes Implementation { get; } = new();

    public RpcServer Server { get; }

    public string Endpoint { get; }

    public static TestServer Start(Transport transport, RpcServerOptions? options = null) => new(transport, options);

    public RpcClient Client(TimeSpan? timeout = null)
    {
        var client = new RpcClient(new RpcClientOptions
        {
            Endpoint = Endpoint,
            Timeout = timeout ?? TimeSpan.FromSeconds(10),
        });
        _owned.Add(client);
        return client;
    }

    public IShapes Proxy(TimeSpan? timeout = null) => Client(timeout).CreateProxy<IShapes>();

    public void Dispose()
    {
        foreach (IDisposable owned in _owned)
        {
            owned.Dispose();
        }

        Server.Dispose();
    }
}
