using System.Diagnostics;
using TypedZmq.FaultServer;

using TypedZmq.Tests.Infrastructure;

namespace TypedZmq.Tests;

/// <summary>
/// Delivery semantics, counted on the server: idempotent calls are retried; other calls are never blindly re-run,
/// unless the server's reply cache makes the retry safe (at-most-once). Plus failover across endpoints and limits.
/// </summary>
public sealed class ReliabilityTests
{
    private static readonly TimeSpan Slack = TimeSpan.FromSeconds(5);

    [Theory]
    [InlineData(RpcChannelKind.Request)]
    [InlineData(RpcChannelKind.Multiplexed)]
    public async Task An_idempotent_call_that_times_out_is_retried_and_succeeds(RpcChannelKind channel)
    {
        var counter = new Counter { SlowOnlyFirst = true };
        using RpcServer server = Start(counter, RpcServerKind.Concurrent);
        // Two seconds per attempt and a connection made (patiently) before the timed call: on a loaded machine a first
        // attempt with a short deadline can reach the server after it, be refused unrun, and leave the slow run to the retry.
        using var client = new RpcClient(new RpcClientOptions { Endpoint = server.BoundEndpoint!, Timeout = TimeSpan.FromSeconds(2), Channel = channel });
        ICounter proxy = client.CreateProxy<ICounter>();
        using (RpcCall.WithTimeout(TimeSpan.FromSeconds(30)))
        {
            Assert.Equal("counter", await proxy.NameAsync(0));
        }

        int value = await proxy.GetAsync(delayMilliseconds: 3000);

        Assert.Equal(0, value);
        Assert.Equal(2, counter.Gets); // the first attempt (still sleeping) and the retry that answered
    }

    [Theory]
    [InlineData(RpcChannelKind.Request)]
    [InlineData(RpcChannelKind.Multiplexed)]
    public async Task An_idempotent_call_gives_up_after_MaxAttempts_with_the_count_in_the_message(RpcChannelKind channel)
    {
        var counter = new Counter();
        using RpcServer server = Start(counter, RpcServerKind.Concurrent);
        using var client = new RpcClient(new RpcClientOptions
        {
            Endpoint = server.BoundEndpoint!,
            Channel = channel,
            Timeout = TimeSpan.FromMilliseconds(150),
            MaxAttempts = 3,
            RetryBackoff = TimeSpan.FromMilliseconds(20),
        });

        var watch = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<RpcException>(() => client.CreateProxy<ICounter>().GetAsync(delayMilliseconds: 3000));

        Assert.Equal(RpcStatus.DeadlineExceeded, error.Status);
        Assert.Contains("Tried 3 times", error.Message);
        Assert.True(watch.Elapsed < (3 * TimeSpan.FromMilliseconds(150)) + TimeSpan.FromMilliseconds(60) + Slack, $"took {watch.Elapsed}");

        // Each attempt carries its own 150 ms deadline: on a loaded machine one may reach the server after it and is
        // then refused unrun (DeadlineExceeded), so the server runs between one and three of them, never more.
        await Eventually.WaitUntil(() => counter.Gets >= 1);
        Assert.InRange(counter.Gets, 1, 3);
    }

    [Theory]
    [InlineData(RpcChannelKind.Request)]
    [InlineData(RpcChannelKind.Multiplexed)]
    public async Task A_call_that_is_not_idempotent_is_not_retried_and_says_it_may_have_run(RpcChannelKind channel)
    {
        var counter = new Counter { SlowOnlyFirst = true };
        using RpcServer server = Start(counter, RpcServerKind.Concurrent);
        // Connected first, patiently: a request still unsent when a REQ client gives up is dropped with its socket, and on
        // a loaded machine the first connection can take longer than the call's timeout. Then two seconds to send and
        // start it, four for the call itself.
        using var client = new RpcClient(new RpcClientOptions { Endpoint = server.BoundEndpoint!, Timeout = TimeSpan.FromSeconds(2), Channel = channel });
        ICounter proxy = client.CreateProxy<ICounter>();
        using (RpcCall.WithTimeout(TimeSpan.FromSeconds(30)))
        {
            await proxy.NameAsync(0);
        }

        var error = await Assert.ThrowsAsync<RpcException>(() => proxy.IncrementAsync(delayMilliseconds: 4000));

        Assert.Equal(RpcStatus.DeadlineExceeded, error.Status);
        Assert.Contains("may still have run", error.Message);
        await Eventually.WaitUntil(() => counter.Increments == 1);
        using (RpcCall.WithTimeout(TimeSpan.FromSeconds(30)))
        {
            await Eventually.WaitUntilAsync(async () => await proxy.GetAsync(0) == 1); // it did run, to completion, exactly once
        }

        Assert.Equal(1, counter.Increments);
    }

    [Theory]
    [InlineData(RpcServerKind.Reply, RpcChannelKind.Request)]
    [InlineData(RpcServerKind.Concurrent, RpcChannelKind.Request)]
    [InlineData(RpcServerKind.Concurrent, RpcChannelKind.Multiplexed)]
    public async Task With_the_server_reply_cache_a_retried_call_runs_at_most_once(RpcServerKind kind, RpcChannelKind channel)
    {
        var counter = new Counter { SlowOnlyFirst = true };
        using var server = new RpcServer(new RpcServerOptions { Endpoint = "tcp://127.0.0.1:0", Kind = kind, ReplyCacheSize = 100 });
        server.AddService<ICounter>(counter);
        server.Start();
        using var client = new RpcClient(new RpcClientOptions
        {
            Endpoint = server.BoundEndpoint!,
            Timeout = TimeSpan.FromMilliseconds(300),
            MaxAttempts = 8,
            RetryBackoff = TimeSpan.FromMilliseconds(100),
            RetryNonIdempotentCalls = true,
            Channel = channel,
        });
        ICounter proxy = client.CreateProxy<ICounter>();

        int value = await proxy.IncrementAsync(delayMilliseconds: 700);

        Assert.Equal(1, value);
        Assert.Equal(1, counter.Increments); // retried, but answered from the cache: the increment ran once
        Assert.Equal(2, await proxy.IncrementAsync(0)); // a new call (new request id) runs normally
        Assert.Equal(2, counter.Increments);
    }

    [Fact]
    public void With_several_endpoints_calls_spread_over_live_servers_and_survive_one_going_down()
    {
        var first = new Counter("first");
        var second = new Counter("second");
        RpcServer a = Start(first, RpcServerKind.Reply);
        using RpcServer b = Start(second, RpcServerKind.Reply);
        // 2 s per attempt: a timed-out attempt replaces the REQ socket, whose reconnection to both servers can take more
        // than half a second on a loaded machine (a CI run failed so with 500 ms). Only the call in flight on the server
        // that goes down waits that long.
        using var client = new RpcClient(new RpcClientOptions
        {
            Endpoint = a.BoundEndpoint + "," + b.BoundEndpoint,
            Timeout = TimeSpan.FromSeconds(2),
            MaxAttempts = 4,
        });
        ICounter proxy = client.CreateProxy<ICounter>();
        WaitForConnections(proxy, first, second);

        var names = new HashSet<string>();
        for (int i = 0; i < 20; i++)
        {
            names.Add(proxy.Name());
        }

        Assert.Equal(["first", "second"], names.Order());

        a.Dispose();
        for (int i = 0; i < 20; i++)
        {
            Assert.Equal("second", proxy.Name());
        }
    }

    [Fact]
    public async Task Many_clients_and_threads_each_get_their_own_results()
    {
        using var server = new RpcServer(new RpcServerOptions { Endpoint = "tcp://127.0.0.1:0", Kind = RpcServerKind.Concurrent });
        server.AddService<Contracts.IShapes>(new Contracts.Shapes());
        server.Start();
        const int Clients = 8;
        const int ThreadsPerClient = 4;
        const int CallsPerThread = 500;
        var clients = Enumerable.Range(0, Clients)
            .Select(i => new RpcClient(new RpcClientOptions
            {
                Endpoint = server.BoundEndpoint!,
                Channel = i % 2 == 0 ? RpcChannelKind.Request : RpcChannelKind.Multiplexed,

                // This test is about answers, not speed: on a CI machine busy with other test processes a call once
                // waited past the 10 s default. A lost reply still fails it, after a minute.
                Timeout = TimeSpan.FromSeconds(60),
            }))
            .ToArray();
        try
        {
            var workers = new List<Task>();
            for (int c = 0; c < Clients; c++)
            {
                Contracts.IShapes shapes = clients[c].CreateProxy<Contracts.IShapes>();
                for (int t = 0; t < ThreadsPerClient; t++)
                {
                    int seed = (c * 100) + t;
                    workers.Add(Task.Factory.StartNew(
                        () =>
                        {
                            for (int i = 0; i < CallsPerThread; i++)
                            {
                                Assert.Equal((seed * 1000) + i + seed, shapes.Add((seed * 1000) + i, seed));
                            }
                        },
                        TestContext.Current.CancellationToken,
                        TaskCreationOptions.LongRunning,
                        TaskScheduler.Default));
                }
            }

            await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(120), TestContext.Current.CancellationToken);
        }
        finally
        {
            foreach (RpcClient client in clients)
            {
                client.Dispose();
            }
        }
    }

    [Fact]
    public async Task A_request_over_the_client_limit_fails_at_once_without_being_sent()
    {
        var counter = new Counter();
        using RpcServer server = Start(counter, RpcServerKind.Reply);
        using var client = new RpcClient(new RpcClientOptions { Endpoint = server.BoundEndpoint!, MaxMessageSize = 40 });

        var error = Assert.Throws<RpcException>(() => client.CreateProxy<Contracts.IShapes>().Echo(new string('x', 100)));

        Assert.Equal(RpcStatus.BadRequest, error.Status);
        Assert.Contains("MaxMessageSize", error.Message);
        Assert.Equal(0, await client.CreateProxy<ICounter>().GetAsync(0)); // small calls still go through
    }

    [Fact]
    public void A_reply_over_the_server_limit_becomes_a_clear_error_and_the_server_carries_on()
    {
        using var server = new RpcServer(new RpcServerOptions { Endpoint = "tcp://127.0.0.1:0", MaxMessageSize = 1024 });
        server.AddService<Contracts.IShapes>(new Contracts.Shapes());
        server.Start();
        using var client = new RpcClient(server.BoundEndpoint!);
        Contracts.IShapes shapes = client.CreateProxy<Contracts.IShapes>();

        var error = Assert.Throws<RpcException>(() => shapes.Range(0, 1000)); // 4 KB of ints back

        Assert.Equal(RpcStatus.Internal, error.Status);
        Assert.Contains("over the server's MaxMessageSize", error.Message);
        Assert.Equal(5, shapes.Add(2, 3));
    }

    private static RpcServer Start(ICounter counter, RpcServerKind kind)
    {
        var server = new RpcServer(new RpcServerOptions { Endpoint = "tcp://127.0.0.1:0", Kind = kind });
        server.AddService(counter);
        server.Start();
        return server;
    }

    private static void WaitForConnections(ICounter proxy, Counter first, Counter second)
    {
        // ZeroMQ connects in the background; until both connections are up, calls go to whichever is.
        // The client's short timeout is for the test's failures, not for connecting on a loaded machine.
        var watch = Stopwatch.StartNew();
        using RpcCallScope patient = RpcCall.WithTimeout(TimeSpan.FromSeconds(30));
        while (first.Names == 0 || second.Names == 0)
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), "both servers were not reached in time");
            proxy.Name();
        }
    }
}
