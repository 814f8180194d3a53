using System.Diagnostics;
using TypedZmq.Tests.Contracts;
using TypedZmq.Tests.Infrastructure;

namespace TypedZmq.Tests;

/// <summary>
/// A call that gets no reply in time fails with DeadlineExceeded, and the client replaces its stuck REQ socket
/// (Lazy Pirate) so the next call on the same client works.
/// </summary>
public sealed class TimeoutAndCancellationTests : TransportTheories
{
    // Generous bound on how late a timeout may fire on a loaded 2-core CI machine; it proves "no hang", not speed.
    private static readonly TimeSpan Slack = TimeSpan.FromSeconds(5);

    [Theory]
    [MemberData(nameof(Transports))]
    public void A_timeout_is_followed_by_a_successful_call_on_the_same_client(Transport transport)
    {
        using var server = TestServer.Start(transport);
        IShapes shapes = server.Proxy(timeout: TimeSpan.FromMilliseconds(300));

        var watch = Stopwatch.StartNew();
        var error = Assert.Throws<RpcException>(() => shapes.Slow(1500));
        watch.Stop();

        Assert.Equal(RpcStatus.DeadlineExceeded, error.Status);
        Assert.Contains("may still have run", error.Message);
        Assert.InRange(watch.Elapsed, TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(300) + Slack);

        // The REP server is still busy with Slow, so give this call room; it must get its own answer, not Slow's.
        using (RpcCall.WithTimeout(TimeSpan.FromSeconds(10)))
        {
            Assert.Equal(9, shapes.Add(4, 5));
        }
    }

    [Fact]
    public void A_call_scoped_timeout_overrides_the_client_default_and_is_restored_after_the_scope()
    {
        using var server = TestServer.Start(Transport.Inproc);
        IShapes shapes = server.Proxy(timeout: TimeSpan.FromSeconds(10));

        using (RpcCall.WithTimeout(TimeSpan.FromMilliseconds(200)))
        {
            Assert.Equal(RpcStatus.DeadlineExceeded, Assert.Throws<RpcException>(() => shapes.Slow(800)).Status);
        }

        // Outside the scope the 10 s default applies again, so a 300 ms call succeeds.
        Assert.Equal("slow", shapes.Slow(300));
    }

    [Fact]
    public async Task Async_calls_time_out_too()
    {
        using var server = TestServer.Start(Transport.Tcp);
        IShapes shapes = server.Proxy(timeout: TimeSpan.FromMilliseconds(200));

        var error = await Assert.ThrowsAsync<RpcException>(() => shapes.SlowAsync(1000, CancellationToken.None));

        Assert.Equal(RpcStatus.DeadlineExceeded, error.Status);
    }

    [Fact]
    public async Task Cancelling_the_token_stops_the_wait_promptly_and_the_next_call_works()
    {
        using var server = TestServer.Start(Transport.Tcp);
        IShapes shapes = server.Proxy();
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(150));

        var watch = Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => shapes.SlowAsync(3000, cts.Token));
        watch.Stop();

        Assert.True(watch.Elapsed < TimeSpan.FromMilliseconds(150) + Slack, $"cancellation took {watch.Elapsed}");
        using (RpcCall.WithTimeout(TimeSpan.FromSeconds(10)))
        {
            Assert.Equal(3, await shapes.LengthAsync("abc", CancellationToken.None));
        }
    }

    [Fact]
    public void A_server_that_was_never_started_gives_DeadlineExceeded_not_a_hang()
    {
        using var client = new RpcClient(new RpcClientOptions
        {
            Endpoint = "tcp://127.0.0.1:" + Eventually.FreeTcpPort(),
            Timeout = TimeSpan.FromMilliseconds(200),
        });
        IShapes shapes = client.CreateProxy<IShapes>();

        var error = Assert.Throws<RpcException>(shapes.Ping);

        Assert.Equal(RpcStatus.DeadlineExceeded, error.Status);
        Assert.Contains("Check that the server is running", error.Message);
    }

    [Fact]
    public void Timeouts_must_be_positive()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new RpcClientOptions { Endpoint = "inproc://x", Timeout = TimeSpan.Zero });
        Assert.Throws<ArgumentOutOfRangeException>(() => RpcCall.WithTimeout(TimeSpan.FromSeconds(-1)));
    }
}
