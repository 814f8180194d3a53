using System.Diagnostics;
using TypedZmq.FaultServer;
using TypedZmq.Tests.Contracts;
using TypedZmq.Tests.Infrastructure;

namespace TypedZmq.Tests;

/// <summary>
/// Calls end as soon as their outcome is known (docs/reliability.md, "How fast each failure is noticed"): a lost
/// connection fails the calls in flight on it within about a heartbeat timeout, not at their deadlines; a server cancels
/// the calls of a client whose connection ended; a server that is merely slow is not mistaken for a dead one.
/// </summary>
public sealed class LivenessTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(20); // against the calls' own 60 s

    [Fact]
    public async Task A_server_process_killed_with_100_calls_in_flight_fails_them_all_with_Unavailable_long_before_their_deadline()
    {
        (ChildProcess server, string endpoint) = await StartServerAsync();
        using ChildProcess owned = server;
        using var client = new RpcClient(new RpcClientOptions { Endpoint = endpoint, Channel = RpcChannelKind.Multiplexed, Timeout = TimeSpan.FromSeconds(60) });
        ICounter counter = client.CreateProxy<ICounter>();
        Task<int>[] calls = Enumerable.Range(0, 100).Select(_ => counter.IncrementAsync(50_000)).ToArray();
        Assert.Equal(0, await counter.GetAsync(0)); // every call above was read before this one was answered

        var watch = Stopwatch.StartNew();
        server.Kill();
        foreach (Task<int> call in calls)
        {
            RpcException error = await Assert.ThrowsAsync<RpcException>(() => call.WaitAsync(Generous, TestContext.Current.CancellationToken));
            Assert.Equal(RpcStatus.Unavailable, error.Status);
            Assert.Contains("connection to", error.Message);
        }

        output.WriteLine($"100 calls failed {watch.Elapsed.TotalMilliseconds:0} ms after the server was killed");
    }

    [Fact]
    public async Task An_idempotent_call_on_a_killed_server_completes_on_the_other_server_at_once()
    {
        (ChildProcess first, string firstEndpoint) = await StartServerAsync();
        using ChildProcess ownedFirst = first;
        (ChildProcess second, string secondEndpoint) = await StartServerAsync();
        using ChildProcess ownedSecond = second;
        string endpoints = firstEndpoint + "," + secondEndpoint;
        using var client = new RpcClient(new RpcClientOptions
        {
            Endpoint = endpoints,
            Channel = RpcChannelKind.Multiplexed,
            Timeout = TimeSpan.FromSeconds(60),
            RetryBackoff = TimeSpan.FromMilliseconds(10),
        });
        ICounter counter = client.CreateProxy<ICounter>();
        await Eventually.WaitUntilAsync(async () => (await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(counter.Name)))).Distinct().Count() == 2);

        // Calls spread over both servers; the ones on the first are lost with it and sent again to the second.
        Task<int>[] calls = Enumerable.Range(0, 10).Select(_ => counter.GetAsync(2_000)).ToArray();
        var watch = Stopwatch.StartNew();
        first.Kill();

        int[] values = await Task.WhenAll(calls).WaitAsync(Generous, TestContext.Current.CancellationToken);
        Assert.All(values, value => Assert.Equal(0, value));
        output.WriteLine($"10 idempotent calls done {watch.Elapsed.TotalMilliseconds:0} ms after one of two servers was killed");
    }

    [Fact]
    public async Task A_connection_gone_silent_is_noticed_by_heartbeats_on_both_sides()
    {
        using TestServer server = TestServer.Start(Transport.Tcp, new RpcServerOptions
        {
            Endpoint = "set by TestServer",
            Kind = RpcServerKind.Concurrent,
            HeartbeatInterval = TimeSpan.FromMilliseconds(200),
            HeartbeatTimeout = TimeSpan.FromSeconds(1),
        });
        using var relay = new TcpRelay(server.Endpoint);
        using var client = new RpcClient(new RpcClientOptions
        {
            Endpoint = relay.Endpoint,
            Channel = RpcChannelKind.Multiplexed,
            Timeout = TimeSpan.FromSeconds(60),
            HeartbeatInterval = TimeSpan.FromMilliseconds(200),
            HeartbeatTimeout = TimeSpan.FromSeconds(1),
        });
        Task<string> call = client.CreateProxy<IShapes>().SlowAsync(60_000, CancellationToken.None);
        await Eventually.WaitUntil(() => server.Implementation.SlowRunning == 1);

        var watch = Stopwatch.StartNew();
        relay.Freeze(); // connections stay open, nothing crosses: no close, no reset, only silence
        RpcException error = await Assert.ThrowsAsync<RpcException>(() => call.WaitAsync(Generous, TestContext.Current.CancellationToken));
        Assert.Equal(RpcStatus.Unavailable, error.Status);
        output.WriteLine($"client noticed after {watch.Elapsed.TotalMilliseconds:0} ms");

        // The server noticed too: the call's token fired although the method would have run a minute.
        await Eventually.WaitUntil(() => server.Implementation.SlowRunning == 0, Generous);
        output.WriteLine($"server cancelled the call after {watch.Elapsed.TotalMilliseconds:0} ms");
    }

    [Fact]
    public async Task A_client_whose_connection_ends_has_its_running_calls_cancelled_on_the_server()
    {
        using TestServer server = TestServer.Start(Transport.Tcp, RpcServerKind.Concurrent);
        using var relay = new TcpRelay(server.Endpoint);
        using var client = new RpcClient(new RpcClientOptions { Endpoint = relay.Endpoint, Channel = RpcChannelKind.Multiplexed, Timeout = TimeSpan.FromSeconds(60) });
        IShapes shapes = client.CreateProxy<IShapes>();
        Task<string>[] calls = Enumerable.Range(0, 5).Select(_ => shapes.SlowAsync(60_000, CancellationToken.None)).ToArray();
        await Eventually.WaitUntil(() => server.Implementation.SlowRunning == 5);

        relay.Cut(); // as the client process dying would: its connection closes

        await Eventually.WaitUntil(() => server.Implementation.SlowRunning == 0, Generous);
        await Eventually.WaitUntil(() => server.Server.InFlight == 0, Generous);
    }

    [Theory]
    [InlineData(RpcServerKind.Reply)]
    [InlineData(RpcServerKind.Concurrent)]
    public async Task A_server_that_is_only_slow_keeps_its_calls(RpcServerKind kind)
    {
        using TestServer server = TestServer.Start(Transport.Tcp, new RpcServerOptions
        {
            Endpoint = "set by TestServer",
            Kind = kind,
            HeartbeatInterval = TimeSpan.FromMilliseconds(200),
            HeartbeatTimeout = TimeSpan.FromSeconds(1),
        });
        using var client = new RpcClient(new RpcClientOptions
        {
            Endpoint = server.Endpoint,
            Channel = RpcChannelKind.Multiplexed,
            HeartbeatInterval = TimeSpan.FromMilliseconds(200),
            HeartbeatTimeout = TimeSpan.FromSeconds(1),
        });

        // Three heartbeat timeouts of a busy server thread (a synchronous method on a reply server blocks its loop).
        Assert.Equal("slow", await Task.Run(() => client.CreateProxy<IShapes>().Slow(3_000)));
    }

    private static Task<(ChildProcess Process, string Endpoint)> StartServerAsync() =>
        FaultServerProcess.StartAsync("tcp://127.0.0.1:0", "concurrent");
}
