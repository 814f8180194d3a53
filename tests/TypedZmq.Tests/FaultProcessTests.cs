using System.Diagnostics;
using TypedZmq.FaultServer;
using TypedZmq.Tests.Infrastructure;

namespace TypedZmq.Tests;

/// <summary>
/// A real server process (tests/TypedZmq.FaultServer) is killed in the middle of a call and a new one starts on the
/// same endpoint: every call returns the right result or a typed RpcException within its deadline plus slack.
/// </summary>
public sealed class FaultProcessTests
{
    private static readonly TimeSpan Slack = TimeSpan.FromSeconds(5);

    [Theory]
    [InlineData(RpcChannelKind.Request, "reply")]
    [InlineData(RpcChannelKind.Multiplexed, "concurrent")]
    public async Task A_server_killed_mid_call_fails_the_call_in_time_and_a_new_server_takes_over(RpcChannelKind channel, string serverKind)
    {
        string endpoint = "tcp://127.0.0.1:" + Eventually.FreeTcpPort();
        using ChildProcess first = await StartServerAsync(endpoint, serverKind);
        using var client = new RpcClient(new RpcClientOptions
        {
            Endpoint = endpoint,
            Channel = channel,
            Timeout = TimeSpan.FromSeconds(1),
            MaxAttempts = 1,
        });
        ICounter counter = client.CreateProxy<ICounter>();
        using (RpcCall.WithTimeout(TimeSpan.FromSeconds(30)))
        {
            Assert.Equal(0, await counter.GetAsync(0)); // connected and warm, however loaded the machine
        }

        Task<int> inFlight = counter.IncrementAsync(delayMilliseconds: 10_000);
        var watch = Stopwatch.StartNew();
        first.Kill();

        // The request channel waits out its timeout; the multiplexed channel sees the connection end and fails at once.
        var error = await Assert.ThrowsAsync<RpcException>(() => inFlight.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken));
        Assert.Equal(channel == RpcChannelKind.Multiplexed ? RpcStatus.Unavailable : RpcStatus.DeadlineExceeded, error.Status);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1) + Slack, $"the failure took {watch.Elapsed}");

        using ChildProcess second = await StartServerAsync(endpoint, serverKind);

        // ZeroMQ reconnects by itself; an idempotent call with retries rides over the reconnection.
        using var retrying = new RpcClient(new RpcClientOptions
        {
            Endpoint = endpoint,
            Channel = channel,
            Timeout = TimeSpan.FromSeconds(1),
            MaxAttempts = 10,
        });
        Assert.Equal(0, await retrying.CreateProxy<ICounter>().GetAsync(0)); // a fresh process: its counter is 0

        // The first client recovers too, once it is reconnected: its earlier failure left nothing stuck.
        int value = -1;
        for (int attempt = 0; attempt < 10 && value < 0; attempt++)
        {
            try
            {
                value = await counter.IncrementAsync(0);
            }
            catch (RpcException ex) when (ex.Status is RpcStatus.DeadlineExceeded or RpcStatus.Unavailable)
            {
            }
        }

        Assert.Equal(1, value);
        second.CloseInput();
    }

    [Fact]
    public async Task An_unreachable_endpoint_and_a_server_never_started_fail_in_time()
    {
        foreach (RpcChannelKind channel in new[] { RpcChannelKind.Request, RpcChannelKind.Multiplexed })
        {
            using var client = new RpcClient(new RpcClientOptions
            {
                Endpoint = "tcp://127.0.0.1:" + Eventually.FreeTcpPort(),
                Channel = channel,
                Timeout = TimeSpan.FromMilliseconds(300),
                MaxAttempts = 2,
                RetryBackoff = TimeSpan.FromMilliseconds(50),
            });

            var watch = Stopwatch.StartNew();
            var error = await Assert.ThrowsAsync<RpcException>(() => client.CreateProxy<ICounter>().GetAsync(0));

            Assert.Equal(RpcStatus.DeadlineExceeded, error.Status);
            Assert.True(watch.Elapsed < TimeSpan.FromMilliseconds(650) + Slack, $"{channel}: took {watch.Elapsed}");
        }
    }

    private static async Task<ChildProcess> StartServerAsync(string endpoint, string kind) =>
        (await FaultServerProcess.StartAsync(endpoint, kind)).Process;
}
