using System.Diagnostics;
using TypedZmq.Tests.Contracts;
using TypedZmq.Tests.Infrastructure;

namespace TypedZmq.Tests;

/// <summary>Starting, stopping and disposing never hangs, and misuse gets a clear exception.</summary>
public sealed class LifecycleTests
{
    [Fact]
    public async Task Disposing_the_client_fails_a_call_in_flight_promptly()
    {
        using var server = TestServer.Start(Transport.Tcp);
        RpcClient client = server.Client();
        IShapes shapes = client.CreateProxy<IShapes>();
        Task<string> call = Task.Run(() => shapes.Slow(3000), TestContext.Current.CancellationToken);
        await Eventually.WaitUntil(() => server.Implementation.SlowStarted == 1, TimeSpan.FromSeconds(5));

        var watch = Stopwatch.StartNew();
        client.Dispose();
        var error = await Assert.ThrowsAsync<RpcException>(() => call.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken));
        watch.Stop();

        Assert.Equal(RpcStatus.Cancelled, error.Status);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"the call took {watch.Elapsed} to notice the dispose");
    }

    [Theory]
    [InlineData(RpcChannelKind.Request)]
    [InlineData(RpcChannelKind.Multiplexed)]
    public async Task Disposing_the_client_ends_every_call_started_before_it_with_Cancelled(RpcChannelKind channel)
    {
        using var server = TestServer.Start(Transport.Tcp, new RpcServerOptions
        {
            Endpoint = "x",
            Kind = RpcServerKind.Concurrent,
            StopTimeout = TimeSpan.FromMilliseconds(100),
        });
        RpcClient client = server.Client(channel: channel);
        IShapes shapes = client.CreateProxy<IShapes>();

        // One call holds the request channel's socket; the others wait their turn (or are in flight, multiplexed).
        Task<string>[] calls = Enumerable.Range(0, 50).Select(_ => shapes.SlowAsync(10_000, CancellationToken.None)).ToArray();
        await Eventually.WaitUntil(() => server.Implementation.SlowStarted >= 1, TimeSpan.FromSeconds(5));
        client.Dispose();

        foreach (Task<string> call in calls)
        {
            var error = await Assert.ThrowsAsync<RpcException>(() => call.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken));
            Assert.Equal(RpcStatus.Cancelled, error.Status);
        }

        // A call started after Dispose is a use of a disposed object.
        Assert.Throws<ObjectDisposedException>(shapes.Ping);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => shapes.SlowAsync(1, CancellationToken.None));
    }

    [Fact]
    public void Calling_after_dispose_throws_ObjectDisposedException()
    {
        using var server = TestServer.Start(Transport.Inproc);
        RpcClient client = server.Client();
        IShapes shapes = client.CreateProxy<IShapes>();
        client.Dispose();

        Assert.Throws<ObjectDisposedException>(shapes.Ping);
        Assert.Throws<ObjectDisposedException>(client.CreateProxy<IShapes>);
    }

    [Theory]
    [InlineData(RpcServerKind.Reply)]
    [InlineData(RpcServerKind.Concurrent)]
    public async Task Stopping_lets_a_call_in_flight_finish(RpcServerKind kind)
    {
        using var server = TestServer.Start(Transport.Tcp, new RpcServerOptions { Endpoint = "x", Kind = kind, StopTimeout = TimeSpan.FromSeconds(10) });
        IShapes shapes = server.Proxy(channel: RpcChannelKind.Multiplexed);
        Task<string> call = shapes.SlowAsync(300, CancellationToken.None);
        await Eventually.WaitUntil(() => server.Implementation.SlowStarted == 1, TimeSpan.FromSeconds(5));

        server.Server.Stop();

        Assert.Equal("slow", await call.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));
    }

    [Theory]
    [InlineData(RpcServerKind.Reply)]
    [InlineData(RpcServerKind.Concurrent)]
    public async Task Stopping_cancels_a_call_that_outlives_the_stop_timeout_and_does_not_hang(RpcServerKind kind)
    {
        using var server = TestServer.Start(Transport.Tcp, new RpcServerOptions { Endpoint = "x", Kind = kind, StopTimeout = TimeSpan.FromMilliseconds(200) });
        IShapes shapes = server.Proxy(timeout: TimeSpan.FromSeconds(10), channel: RpcChannelKind.Multiplexed);
        Task<string> call = shapes.SlowAsync(30_000, CancellationToken.None);
        await Eventually.WaitUntil(() => server.Implementation.SlowStarted == 1, TimeSpan.FromSeconds(5));

        var watch = Stopwatch.StartNew();
        server.Server.Stop();
        watch.Stop();

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"stopping took {watch.Elapsed}");
        var error = await Assert.ThrowsAsync<RpcException>(() => call.WaitAsync(TimeSpan.FromSeconds(15), TestContext.Current.CancellationToken));
        Assert.Equal(RpcStatus.Cancelled, error.Status);
        Assert.Contains("stopping", error.Message);
    }

    [Fact]
    public async Task Calls_that_end_after_a_concurrent_server_stopped_do_not_block_the_thread_pool()
    {
        const int Calls = 200;
        using var server = TestServer.Start(Transport.Tcp, new RpcServerOptions
        {
            Endpoint = "x",
            Kind = RpcServerKind.Concurrent,
            StopTimeout = TimeSpan.FromMilliseconds(100),
        });
        IShapes shapes = server.Proxy(timeout: TimeSpan.FromSeconds(30), channel: RpcChannelKind.Multiplexed);
        Task<string>[] calls = Enumerable.Range(0, Calls).Select(_ => shapes.StubbornAsync(1500)).ToArray();
        await Eventually.WaitUntil(() => server.Implementation.StubbornStarted == Calls, TimeSpan.FromSeconds(10));

        server.Server.Dispose();

        // The implementations ignore the server's token and return after it stopped: their results have nowhere to
        // go and must be dropped without holding a thread.
        await Eventually.WaitUntil(() => server.Implementation.StubbornFinished == Calls, TimeSpan.FromSeconds(20));
        for (int probe = 0; probe < 3; probe++)
        {
            Assert.True(PoolRunsWorkWithin(TimeSpan.FromSeconds(1)), $"probe {probe}: the thread pool ran nothing within 1 s");
        }
    }

    /// <summary>Asks from a thread outside the pool whether a pool work item starts in time.</summary>
    private static bool PoolRunsWorkWithin(TimeSpan limit)
    {
        bool ran = false;
        var probe = new Thread(() => ran = Task.Run(static () => 0).Wait(limit)) { IsBackground = true };
        probe.Start();
        probe.Join();
        return ran;
    }

    [Fact]
    public async Task A_stopping_concurrent_server_refuses_new_calls_with_Unavailable()
    {
        using var server = TestServer.Start(Transport.Tcp, new RpcServerOptions { Endpoint = "x", Kind = RpcServerKind.Concurrent, StopTimeout = TimeSpan.FromSeconds(10) });
        IShapes shapes = server.Proxy(channel: RpcChannelKind.Multiplexed);
        Task<string> running = shapes.SlowAsync(1000, CancellationToken.None);
        await Eventually.WaitUntil(() => server.Implementation.SlowStarted == 1, TimeSpan.FromSeconds(5));

        Task stopping = Task.Run(server.Server.Stop, TestContext.Current.CancellationToken);
        await Eventually.WaitUntil(() => IsRefusing(shapes), TimeSpan.FromSeconds(5));

        Assert.Equal("slow", await running.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));
        await stopping.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
    }

    private static bool IsRefusing(IShapes shapes)
    {
        try
        {
            shapes.Ping();
            return false;
        }
        catch (RpcException ex) when (ex.Status == RpcStatus.Unavailable)
        {
            Assert.Contains("stopping", ex.Message);
            return true;
        }
    }

    [Fact]
    public async Task RunAsync_serves_until_its_token_is_cancelled()
    {
        string endpoint = $"inproc://typedzmq-run-{Guid.NewGuid():N}";
        using var server = new RpcServer(endpoint);
        server.AddService<IShapes>(new Shapes());
        using var stop = new CancellationTokenSource();
        Task running = server.RunAsync(stop.Token);
        using var client = new RpcClient(endpoint);

        Assert.Equal(2, client.CreateProxy<IShapes>().Add(1, 1));
        Assert.False(running.IsCompleted);

        stop.Cancel();
        await running.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
    }

    [Fact]
    public void A_server_cannot_be_started_twice_or_take_services_once_running()
    {
        using var server = TestServer.Start(Transport.Inproc);

        Assert.Throws<InvalidOperationException>(server.Server.Start);
        Assert.Throws<InvalidOperationException>(() => server.Server.AddService<IShapes>(new Shapes()));
    }

    [Fact]
    public void Binding_a_port_in_use_says_so()
    {
        using var first = TestServer.Start(Transport.Tcp);
        using var second = new RpcServer(first.Endpoint);
        second.AddService<IShapes>(new Shapes());

        var error = Assert.Throws<InvalidOperationException>(second.Start);

        Assert.Contains(first.Endpoint, error.Message);
        Assert.Contains("already in use", error.Message);
        Assert.DoesNotContain("Exception of type", error.Message);
    }

    [Theory]
    [InlineData("localhost:5555", "names no transport")]
    [InlineData("http://localhost:5555", "does not have")]
    [InlineData("tcp://", "has no address")]
    public void An_endpoint_of_the_wrong_form_says_what_is_wrong_on_both_sides(string endpoint, string message)
    {
        var client = Assert.Throws<ArgumentException>(() => new RpcClient(endpoint));
        Assert.Contains(message, client.Message);
        Assert.Contains(endpoint, client.Message);

        using var server = new RpcServer(endpoint);
        var bind = Assert.Throws<ArgumentException>(server.Start);
        Assert.Contains(message, bind.Message);
        Assert.DoesNotContain("non-negative", bind.Message);
    }

    [Fact]
    public void A_malformed_client_endpoint_fails_in_the_constructor()
    {
        var error = Assert.Throws<ArgumentException>(() => new RpcClient("not-an-endpoint"));

        Assert.Contains("not-an-endpoint", error.Message);
    }

    [Fact]
    public void An_inproc_client_may_be_created_before_its_server_and_works_once_the_server_is_up()
    {
        string endpoint = $"inproc://typedzmq-early-{Guid.NewGuid():N}";
        using var client = new RpcClient(endpoint);
        IShapes shapes = client.CreateProxy<IShapes>();

        var early = Assert.Throws<RpcException>(shapes.Ping);
        Assert.Equal(RpcStatus.Unavailable, early.Status);
        Assert.Contains("nothing is bound", early.Message);

        using var server = new RpcServer(endpoint);
        server.AddService<IShapes>(new Shapes());
        server.Start();
        Assert.Equal(2, shapes.Add(1, 1));
    }
}
