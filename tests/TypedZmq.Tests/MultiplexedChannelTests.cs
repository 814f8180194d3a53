using System.Diagnostics;
using TypedZmq.Tests.Contracts;
using TypedZmq.Tests.Infrastructure;

namespace TypedZmq.Tests;

/// <summary>
/// The multiplexed channel under load: many threads and many calls in flight on one client, every reply matched to
/// its caller, timeouts and cancellation mid-flight, a server restart, and disposal with calls pending.
/// </summary>
public sealed class MultiplexedChannelTests
{
    private static readonly TimeSpan Slack = TimeSpan.FromSeconds(5);

    [Theory]
    [InlineData(RpcServerKind.Concurrent)]
    [InlineData(RpcServerKind.Reply)]
    public async Task Many_threads_with_many_calls_in_flight_each_get_their_own_result(RpcServerKind kind)
    {
        using var server = TestServer.Start(Transport.Tcp, kind);
        IShapes shapes = server.Proxy(channel: RpcChannelKind.Multiplexed);
        const int Threads = 8;
        const int CallsPerThread = 500;
        const int InFlightPerThread = 25;

        // Dedicated threads (not pool threads), each keeping a window of asynchronous calls in flight.
        Task[] workers = new Task[Threads];
        for (int t = 0; t < Threads; t++)
        {
            int thread = t;
            workers[t] = Task.Factory.StartNew(
                () =>
                {
                    var window = new List<(int A, Task<int> Call)>(InFlightPerThread);
                    for (int i = 0; i < CallsPerThread; i++)
                    {
                        int a = (thread * 100_000) + i;
                        window.Add((a, shapes.AddAsync(a, thread)));
                        if (window.Count == InFlightPerThread || i == CallsPerThread - 1)
                        {
                            foreach ((int expected, Task<int> call) in window)
                            {
                                // Each result depends on this caller's own arguments, so a crossed reply would show.
                                Assert.Equal(expected + thread, call.WaitAsync(TimeSpan.FromSeconds(30)).GetAwaiter().GetResult());
                            }

                            window.Clear();
                        }
                    }
                },
                TestContext.Current.CancellationToken,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default);
        }

        await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(120), TestContext.Current.CancellationToken);
        Assert.Equal(Threads * CallsPerThread, server.Implementation.Adds);
    }

    [Fact]
    public async Task Async_calls_from_one_thread_are_all_in_flight_at_once_on_a_concurrent_server()
    {
        using var server = TestServer.Start(Transport.Tcp, RpcServerKind.Concurrent);
        IShapes shapes = server.Proxy(channel: RpcChannelKind.Multiplexed);

        Task<string>[] calls = Enumerable.Range(0, 50).Select(_ => shapes.SlowAsync(500, CancellationToken.None)).ToArray();
        string[] results = await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        Assert.All(results, r => Assert.Equal("slow", r));
        Assert.Equal(50, server.Implementation.MaxSlowRunning); // all 50 were running on the server at once
    }

    [Fact]
    public async Task A_call_that_times_out_does_not_disturb_calls_around_it()
    {
        using var server = TestServer.Start(Transport.Tcp, RpcServerKind.Concurrent);
        IShapes shapes = server.Proxy(timeout: TimeSpan.FromSeconds(10), channel: RpcChannelKind.Multiplexed);

        Task<string> slow;
        using (RpcCall.WithTimeout(TimeSpan.FromMilliseconds(200)))
        {
            slow = shapes.SlowAsync(2000, CancellationToken.None);
        }

        Task<int>[] fast = Enumerable.Range(0, 20).Select(i => shapes.LengthAsync(new string('x', i), CancellationToken.None)).ToArray();

        var watch = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<RpcException>(() => slow.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));
        watch.Stop();
        Assert.Equal(RpcStatus.DeadlineExceeded, error.Status);
        Assert.True(watch.Elapsed < TimeSpan.FromMilliseconds(200) + Slack, $"the timeout fired after {watch.Elapsed}");
        Assert.Equal(Enumerable.Range(0, 20), await Task.WhenAll(fast));

        // The slow call's reply arrives later and is dropped; the channel keeps working.
        Assert.Equal(7, shapes.Add(3, 4));
    }

    [Fact]
    public async Task Cancelling_a_call_mid_flight_completes_it_promptly_and_drops_its_late_reply()
    {
        using var server = TestServer.Start(Transport.Tcp, RpcServerKind.Concurrent);
        IShapes shapes = server.Proxy(channel: RpcChannelKind.Multiplexed);
        using var cts = new CancellationTokenSource();

        Task<string> call = shapes.SlowAsync(1000, cts.Token);
        await Eventually.WaitUntil(() => server.Implementation.SlowStarted == 1);
        var watch = Stopwatch.StartNew();
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));
        Assert.True(watch.Elapsed < Slack, $"cancellation took {watch.Elapsed}");
        Assert.Equal(9, await Task.Run(() => shapes.Add(4, 5), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_token_cancelled_before_the_call_never_sends_it()
    {
        using var server = TestServer.Start(Transport.Inproc, RpcServerKind.Concurrent);
        IShapes shapes = server.Proxy(channel: RpcChannelKind.Multiplexed);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => shapes.LengthAsync("x", new CancellationToken(canceled: true)));

        Assert.Equal(1, await shapes.LengthAsync("y", CancellationToken.None));
    }

    [Fact]
    public async Task The_client_survives_a_server_restart_on_the_same_endpoint()
    {
        var first = new RpcServer(new RpcServerOptions { Endpoint = "tcp://127.0.0.1:0", Kind = RpcServerKind.Concurrent });
        first.AddService<IShapes>(new Shapes());
        first.Start();
        string endpoint = first.BoundEndpoint!;
        using var client = new RpcClient(new RpcClientOptions { Endpoint = endpoint, Channel = RpcChannelKind.Multiplexed, Timeout = TimeSpan.FromSeconds(10) });
        IShapes shapes = client.CreateProxy<IShapes>();
        Assert.Equal(2, await shapes.LengthAsync("ab", CancellationToken.None));

        first.Dispose();
        using (RpcCall.WithTimeout(TimeSpan.FromMilliseconds(300)))
        {
            // No reply in time, or (when the lost connection is reported after the call was sent) Unavailable.
            var down = await Assert.ThrowsAsync<RpcException>(() => shapes.LengthAsync("while down", CancellationToken.None));
            Assert.Contains(down.Status, new[] { RpcStatus.DeadlineExceeded, RpcStatus.Unavailable });
        }

        using var second = new RpcServer(new RpcServerOptions { Endpoint = endpoint, Kind = RpcServerKind.Concurrent });
        second.AddService<IShapes>(new Shapes());
        second.Start();

        // ZeroMQ reconnects on its own; the first calls after the restart may race the reconnection, so allow a few.
        int length = -1;
        for (int attempt = 0; attempt < 20 && length < 0; attempt++)
        {
            using (RpcCall.WithTimeout(TimeSpan.FromSeconds(1)))
            {
                try
                {
                    length = await shapes.LengthAsync("back", CancellationToken.None);
                }
                catch (RpcException ex) when (ex.Status == RpcStatus.DeadlineExceeded)
                {
                }
            }
        }

        Assert.Equal(4, length);
    }

    [Fact]
    public async Task Disposing_the_client_fails_every_pending_call_promptly()
    {
        using var server = TestServer.Start(Transport.Tcp, RpcServerKind.Concurrent);
        RpcClient client = server.Client(channel: RpcChannelKind.Multiplexed);
        IShapes shapes = client.CreateProxy<IShapes>();
        Task<string>[] calls = Enumerable.Range(0, 10).Select(_ => shapes.SlowAsync(5000, CancellationToken.None)).ToArray();
        await Eventually.WaitUntil(() => server.Implementation.SlowStarted == 10);

        var watch = Stopwatch.StartNew();
        client.Dispose();

        foreach (Task<string> call in calls)
        {
            var error = await Assert.ThrowsAsync<RpcException>(() => call.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken));
            Assert.Equal(RpcStatus.Cancelled, error.Status);
        }

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"pending calls took {watch.Elapsed} to fail");
        await Assert.ThrowsAsync<ObjectDisposedException>(() => shapes.LengthAsync("late", CancellationToken.None));
    }

    [Fact]
    public async Task A_server_that_was_never_started_gives_DeadlineExceeded()
    {
        using var client = new RpcClient(new RpcClientOptions
        {
            Endpoint = "tcp://127.0.0.1:" + Eventually.FreeTcpPort(),
            Channel = RpcChannelKind.Multiplexed,
            Timeout = TimeSpan.FromMilliseconds(200),
        });

        var error = await Assert.ThrowsAsync<RpcException>(() => client.CreateProxy<IShapes>().LengthAsync("x", CancellationToken.None));

        Assert.Equal(RpcStatus.DeadlineExceeded, error.Status);
    }
}
