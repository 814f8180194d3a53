using TypedZmq.FaultServer;
using TypedZmq.Tests.Infrastructure;

namespace TypedZmq.Tests;

/// <summary>Server sets that change while a client runs (docs/scaling.md, "Server sets that change").</summary>
public sealed class ServerSetTests
{
    [Fact]
    public async Task The_client_follows_its_resolver_adding_and_removing_servers_while_calls_go_on()
    {
        using RpcServer first = Server("first");
        using RpcServer second = Server("second");
        var resolver = new SettableResolver(first.BoundEndpoint!);
        using var client = new RpcClient(new RpcClientOptions
        {
            Endpoint = first.BoundEndpoint!,
            Channel = RpcChannelKind.Multiplexed,
            EndpointResolver = resolver,
            ResolveInterval = TimeSpan.FromMilliseconds(50),
            RetryBackoff = TimeSpan.FromMilliseconds(10),
        });
        ICounter counter = client.CreateProxy<ICounter>();
        Assert.Equal("first", counter.Name());

        // A server appears: calls reach both (idempotent, so a call caught in a change is retried, never lost).
        resolver.Set(first.BoundEndpoint!, second.BoundEndpoint!);
        var seen = new HashSet<string>();
        await Eventually.WaitUntil(() =>
        {
            seen.Add(counter.Name());
            return seen.Count == 2;
        });

        // The first goes away: from then on only the second answers, and no call fails on the way.
        resolver.Set(second.BoundEndpoint!);
        await Eventually.WaitUntil(() => Enumerable.Range(0, 6).All(_ => counter.Name() == "second"));
    }

    [Fact]
    public async Task A_resolver_answering_only_unusable_endpoints_keeps_the_servers_it_had()
    {
        using RpcServer first = Server("first");
        var resolver = new SettableResolver("not an endpoint", "tcp://", "udp://127.0.0.1:5555");
        using var client = new RpcClient(new RpcClientOptions
        {
            Endpoint = first.BoundEndpoint!,
            Channel = RpcChannelKind.Multiplexed,
            EndpointResolver = resolver,
            ResolveInterval = TimeSpan.FromMilliseconds(20),
        });
        ICounter counter = client.CreateProxy<ICounter>();

        // Several resolutions later, calls still reach the server (not idempotent: a lost connection would fail them).
        await Eventually.WaitUntil(() => resolver.Asked >= 3);
        for (int i = 0; i < 10; i++)
        {
            Assert.Equal(i + 1, await counter.IncrementAsync(5).WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));
        }
    }

    [Fact]
    public async Task A_DNS_name_resolves_to_one_endpoint_per_address()
    {
        var resolver = new DnsEndpointResolver("localhost", 5555);
        IReadOnlyCollection<string> endpoints = await resolver.ResolveAsync(TestContext.Current.CancellationToken);
        Assert.Contains("tcp://127.0.0.1:5555", endpoints);
        Assert.All(endpoints, endpoint => Assert.Matches(@"^tcp://(\d+\.\d+\.\d+\.\d+|\[[0-9a-f:]+\]):5555$", endpoint));
    }

    [Fact]
    public void A_resolver_needs_the_multiplexed_channel()
    {
        var error = Assert.Throws<ArgumentException>(() => new RpcClient(new RpcClientOptions
        {
            Endpoint = "tcp://127.0.0.1:5555",
            EndpointResolver = new SettableResolver("tcp://127.0.0.1:5555"),
        }));
        Assert.Contains("multiplexed", error.Message);
    }

    private static RpcServer Server(string name)
    {
        var server = new RpcServer(new RpcServerOptions { Endpoint = "tcp://127.0.0.1:0", Kind = RpcServerKind.Concurrent });
        server.AddService<ICounter>(new Counter(name));
        server.Start();
        return server;
    }
}
