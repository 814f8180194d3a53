using TypedZmq.FaultServer;
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
    [InlineData(RpcLoadBalancing.LeastInFlight, 1)]
    [InlineData(RpcLoadBalancing.RoundRobin, 10)]
    public async Task A_stalled_server_gets_new_calls_only_by_round_robin(RpcLoadBalancing rule, int expectedOnStalled)
    {
        var stall = new Stall();
        using RpcServer stalled = Server("stalled", stall);
        using RpcServer free = Server("free", interceptor: null);
        using var client = new RpcClient(new RpcClientOptions
        {
            Endpoint = stalled.BoundEndpoint + "," + free.BoundEndpoint,
            Channel = RpcChannelKind.Multiplexed,
            LoadBalancing = rule,
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

        // Least in flight: once the stalled server holds one call, the free one (none in flight) takes every other.
        // Round robin: every second call waits on the stalled server.
        Assert.Equal(expectedOnStalled, stall.Holding);
        Assert.Equal(expectedOnStalled, held.Count);

        stall.Release();
        Assert.All(await Task.WhenAll(held).WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken), value => Assert.Equal(0, value));
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
