using Compat;

namespace TypedZmq.Tests;

/// <summary>
/// The proxy and dispatcher TypedZmq 0.2's generator wrote (checked in, tests/TypedZmq.Compat.Release02) still compile
/// and work against the current runtime: the surface generated code calls is a compatibility promise
/// (docs/versioning.md, "Generated code").
/// </summary>
public sealed class CompatibilityTests
{
    [Theory]
    [InlineData(RpcServerKind.Reply, RpcChannelKind.Request)]
    [InlineData(RpcServerKind.Concurrent, RpcChannelKind.Multiplexed)]
    public async Task Code_generated_by_an_earlier_release_serves_and_calls_every_method_shape(RpcServerKind kind, RpcChannelKind channel)
    {
        var catalog = new Catalog();
        using var server = new RpcServer(new RpcServerOptions { Endpoint = "tcp://127.0.0.1:0", Kind = kind });
        server.AddService<ICatalog>(catalog);
        server.Start();
        using var client = new RpcClient(new RpcClientOptions { Endpoint = server.BoundEndpoint!, Channel = channel });
        ICatalog proxy = client.CreateProxy<ICatalog>();

        Assert.Equal("hello", await Task.Run(() => proxy.Echo("hello"), TestContext.Current.CancellationToken));
        await Task.Run(() => proxy.Touch(7), TestContext.Current.CancellationToken);
        await proxy.Reset();
        Product found = await proxy.FindAsync(3, TestContext.Current.CancellationToken);
        Assert.Equal((3, "item 3", 1.5m), (found.Id, found.Name, found.Price));
        Assert.Equal(["a", "b"], found.Tags);
        Assert.Equal(2, await proxy.CountAsync(["x", "y"]));
        Assert.Equal(7L, await Task.Run(() => proxy.Sum(3, 4), TestContext.Current.CancellationToken));
        Assert.Equal((7, 1), (catalog.Touched, catalog.Resets));
    }

    private sealed class Catalog : ICatalog
    {
        public int Touched { get; private set; }

        public int Resets { get; private set; }

        public string Echo(string text) => text;

        public void Touch(int id) => Touched = id;

        public Task Reset()
        {
            Resets++;
            return Task.CompletedTask;
        }

        public Task<Product> FindAsync(int id, CancellationToken cancellationToken) =>
            Task.FromResult(new Product(id, "item " + id, 1.5m, ["a", "b"]));

        public ValueTask<int> CountAsync(string[] names) => ValueTask.FromResult(names.Length);

        public long Sum(int a, long b) => a + b;
    }
}
