extern alias v1;
extern alias v2;

using TypedZmq.Tests.Infrastructure;
using V1 = v1::Versioned;
using V2 = v2::Versioned;

namespace TypedZmq.Tests;

/// <summary>
/// Clients and servers of different contract versions (tests/TypedZmq.Versioning.V1 and V2, built as separate
/// assemblies) calling each other: each outcome is the one docs/versioning.md's table promises, never garbage or a hang.
/// </summary>
public sealed class MixedVersionTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Theory]
    [InlineData(RpcChannelKind.Request)]
    [InlineData(RpcChannelKind.Multiplexed)]
    public async Task An_old_client_calls_a_new_server(RpcChannelKind channel)
    {
        using RpcServer server = Start<V2.IInventory>(new V2.Inventory());
        using var client = new RpcClient(new RpcClientOptions { Endpoint = server.BoundEndpoint!, Channel = channel });
        V1.IInventory inventory = client.CreateProxy<V1.IInventory>();

        // Unchanged methods work; a new member of a version-tolerant type is skipped by the old reader.
        Assert.Equal(3, await Call(() => inventory.Count("abc")));
        Assert.Equal("x", (await Call(() => inventory.Describe("x"))).Sku);

        // A default-layout record that gained a member: the new server reads the old one (the member is default) but
        // its reply has a member the old client does not know, and the client refuses it rather than misread it.
        RpcException refused = await Assert.ThrowsAsync<RpcException>(() => Call(() => inventory.Echo(new V1.Line("x"))));
        Assert.Equal(RpcStatus.Internal, refused.Status);
        Assert.Contains("has 1 members but the header says 2", refused.Message);
        Assert.Contains("different versions of the contract", refused.Message);
    }

    [Theory]
    [InlineData(RpcChannelKind.Request)]
    [InlineData(RpcChannelKind.Multiplexed)]
    public async Task A_new_client_calls_an_old_server(RpcChannelKind channel)
    {
        using RpcServer server = Start<V1.IInventory>(new V1.Inventory());
        using var client = new RpcClient(new RpcClientOptions { Endpoint = server.BoundEndpoint!, Channel = channel });
        V2.IInventory inventory = client.CreateProxy<V2.IInventory>();

        Assert.Equal(3, await Call(() => inventory.Count("abc")));

        // The old server's reply lacks the new member: the new reader leaves it default.
        V2.Stock stock = await Call(() => inventory.Describe("x"));
        Assert.Equal(("x", (string?)null), (stock.Sku, stock.Location)); // default(string), not the property's initializer

        // The method the old server does not have: Unimplemented, naming it.
        RpcException missing = await Assert.ThrowsAsync<RpcException>(() => Call(() => inventory.Where("x")));
        Assert.Equal(RpcStatus.Unimplemented, missing.Status);
        Assert.Contains("Where", missing.Message);

        // A record with a member the old server does not know: refused unrun, and the server goes on serving.
        RpcException refused = await Assert.ThrowsAsync<RpcException>(() => Call(() => inventory.Echo(new V2.Line("x", 5))));
        Assert.Equal(RpcStatus.BadRequest, refused.Status);
        Assert.Contains("has 1 members but the header says 2", refused.Message);
        Assert.Equal(1, await Call(() => inventory.Count("a")));
    }

    // Synchronous proxy calls, off the test's thread and bounded: a hang fails the test instead of stalling the run.
    private static Task<T> Call<T>(Func<T> call) => Task.Run(call).WaitAsync(Bound, TestContext.Current.CancellationToken);

    private static RpcServer Start<TService>(TService implementation)
        where TService : class
    {
        var server = new RpcServer(new RpcServerOptions { Endpoint = "tcp://127.0.0.1:0", Kind = RpcServerKind.Concurrent });
        server.AddService(implementation);
        server.Start();
        return server;
    }
}
