using TypedZmq.FaultServer;
using TypedZmq.Tests.Contracts;
using TypedZmq.Tests.Infrastructure;

namespace TypedZmq.Tests;

/// <summary>
/// Which server a multiplexed client with several servers sends each call to (docs/scaling.md, "Load spread"): with
/// <see cref="RpcLoadBalancing.LeastInFlight"/> a stalled server is given no more work while another is free; with
/// <see cref="RpcLoadBalancing.RoundRobin"/> it gets its turn regardless.
/// </summary>
public sealed class LoadBalancingTests
{
    [Theory]
    [InlineData(RpcLoadBalancing.LeastInFlight, null, 1)] // once it holds one, the free server (none in flight) takes every other
    [InlineData(RpcLoadBalancing.RoundRobin, null, 10)] // every second call waits on it
    [InlineData(RpcLoadBalancing.RoundRobin, 2, 2)] // its turn comes every second call, but at the bound it is passed over
    public async Task A_stalled_server_among_free_ones_is_given_calls_by_the_rule_and_never_past_the_bound(RpcLoadBalancing rule, int? bound, int expectedOnStalled)
    {
        var stall = new Stall();
        using RpcServer stalled = Server("stalled", stall);
        using RpcServer free = Server("free", interceptor: null);
        using var client = new RpcClient(new RpcClientOptions
        {
            Endpoint = stalled.BoundEndpoint + "," + free.BoundEndpoint,
            Channel = RpcChannelKind.Multiplexed,
            LoadBalancing = rule,
            MaxCallsInFlightPerServer = bound,
        });
        ICounter counter = client.CreateProxy<ICounter>();
        var names = new HashSet<string>();
        await Eventually.WaitUntilAsync(async () => names.Add(await counter.NameAsync(0)) && names.Count == 2); // both connected

        // Twenty calls, one after another: each either completes (on the free server) or is held by the stalled one
        // (which answers none until released), before the next one starts.
        stall.Armed = true;
        var held = new List<Task<int>>();
        for (int i = 0; i < 20; i++)
        {
            int before = stall.Holding;
            Task<int> call = counter.GetAsync(0);
            await Eventually.WaitUntil(() => call.IsCompleted || stall.Holding > before);
            if (!call.IsCompleted)
            {
                held.Add(call);
            }
        }

        Assert.Equal(expectedOnStalled, stall.Holding);
        Assert.Equal(expectedOnStalled, held.Count);

        stall.Release();
        Assert.All(await Task.WhenAll(held).WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken), value => Assert.Equal(0, value));
    }

    [Fact]
    public async Task A_call_over_the_bound_waits_in_the_client_and_fails_at_its_deadline_saying_it_did_not_run()
    {
        var stall = new Stall { Armed = true };
        using RpcServer stalled = Server("stalled", stall);
        using var client = new RpcClient(new RpcClientOptions
        {
            Endpoint = stalled.BoundEndpoint!,
            Channel = RpcChannelKind.Multiplexed,
            MaxCallsInFlightPerServer = 1,
        });
        ICounter counter = client.CreateProxy<ICounter>();
        Task<int> first = counter.IncrementAsync(0);
        await Eventually.WaitUntil(() => stall.Holding == 1);

        Task<int> second;
        using (RpcCall.WithTimeout(TimeSpan.FromMilliseconds(300)))
        {
            second = counter.IncrementAsync(0);
        }

        var error = await Assert.ThrowsAsync<RpcException>(() => second);

        Assert.Equal(RpcStatus.DeadlineExceeded, error.Status);
        Assert.Contains("did not run", error.Message);
        Assert.Equal(1, stall.Holding); // never reached the server
        stall.Release();
        Assert.Equal(1, await first.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_call_made_before_any_server_is_up_waits_for_one_instead_of_failing()
    {
        string first = "tcp://127.0.0.1:" + Eventually.FreeTcpPort();
        string second = "tcp://127.0.0.1:" + Eventually.FreeTcpPort();
        using var client = new RpcClient(new RpcClientOptions { Endpoint = first + "," + second, Channel = RpcChannelKind.Multiplexed });

        // Not idempotent, so never retried: it succeeds only if it waited in the client until a server came up.
        Task<int> call = client.CreateProxy<ICounter>().IncrementAsync(0);
        using var server = new RpcServer(new RpcServerOptions { Endpoint = second, Kind = RpcServerKind.Concurrent });
        server.AddService<ICounter>(new Counter("late"));
        server.Start();

        Assert.Equal(1, await call.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_waiting_call_can_be_cancelled_and_leaves_no_slot_taken()
    {
        var stall = new Stall { Armed = true };
        var options = new RpcServerOptions { Endpoint = "tcp://127.0.0.1:0", Kind = RpcServerKind.Concurrent };
        options.Interceptors.Add(stall);
        using var stalled = new RpcServer(options);
        stalled.AddService<ICounter>(new Counter("stalled")).AddService<IShapes>(new Shapes());
        stalled.Start();
        using var client = new RpcClient(new RpcClientOptions
        {
            Endpoint = stalled.BoundEndpoint!,
            Channel = RpcChannelKind.Multiplexed,
            MaxCallsInFlightPerServer = 1,
        });
        ICounter counter = client.CreateProxy<ICounter>();
        Task<int> first = counter.IncrementAsync(0);
        await Eventually.WaitUntil(() => stall.Holding == 1);

        using var cancel = new CancellationTokenSource();
        Task<int> waiting = client.CreateProxy<IShapes>().LengthAsync("never sent", cancel.Token);
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);

        // Released, the first completes; the slot it held is free again, and so is the cancelled one's: calls flow.
        stall.Armed = false;
        stall.Release();
        Assert.Equal(1, await first.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal("stalled", await counter.NameAsync(0).WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));
        }

        Assert.Equal(1, stall.Holding); // the cancelled call never reached the server
    }

    [Fact]
    public async Task A_call_no_server_could_take_fails_at_its_deadline_saying_it_did_not_run()
    {
        using var client = new RpcClient(new RpcClientOptions
        {
            Endpoint = $"tcp://127.0.0.1:{Eventually.FreeTcpPort()},tcp://127.0.0.1:{Eventually.FreeTcpPort()}",
            Channel = RpcChannelKind.Multiplexed,
            Timeout = TimeSpan.FromMilliseconds(300),
        });

        var error = await Assert.ThrowsAsync<RpcException>(() => client.CreateProxy<ICounter>().IncrementAsync(0));

        Assert.Equal(RpcStatus.DeadlineExceeded, error.Status);
        Assert.Contains("did not run", error.Message);
    }

    [Fact]
    public void An_unknown_rule_is_refused()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new RpcClient(new RpcClientOptions
        {
            Endpoint = "tcp://127.0.0.1:5555",
            Channel = RpcChannelKind.Multiplexed,
            LoadBalancing = (RpcLoadBalancing)7,
        }));
        Assert.Contains("LoadBalancing", error.Message);
    }

    private static RpcServer Server(string name, RpcServerInterceptor? interceptor)
    {
        var options = new RpcServerOptions { Endpoint = "tcp://127.0.0.1:0", Kind = RpcServerKind.Concurrent };
        if (interceptor is not null)
        {
            options.Interceptors.Add(interceptor);
        }

        var server = new RpcServer(options);
        server.AddService<ICounter>(new Counter(name));
        server.Start();
        return server;
    }

    /// <summary>Once armed, holds every call until released: a server that stopped making progress.</summary>
    private sealed class Stall : RpcServerInterceptor
    {
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _holding;

        public volatile bool Armed;

        public int Holding => Volatile.Read(ref _holding);

        public void Release() => _released.TrySetResult();

        public override async ValueTask InterceptAsync(RpcCallContext context, RpcServerContinuation next)
        {
            if (Armed)
            {
                Interlocked.Increment(ref _holding);
                await _released.Task;
            }

            await next(context);
        }
    }
}
