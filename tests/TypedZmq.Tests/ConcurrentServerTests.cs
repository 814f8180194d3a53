using NetMQ;
using NetMQ.Sockets;
using TypedZmq.Tests.Contracts;
using TypedZmq.Tests.Infrastructure;

namespace TypedZmq.Tests;

/// <summary>The concurrent (ROUTER) server: bounds on running and queued calls, answers to every kind of client.</summary>
public sealed class ConcurrentServerTests
{
    [Fact]
    public async Task Calls_beyond_the_running_and_queued_bounds_get_Unavailable_not_silence()
    {
        using var server = TestServer.Start(Transport.Tcp, new RpcServerOptions
        {
            Endpoint = "x",
            Kind = RpcServerKind.Concurrent,
            MaxConcurrentCalls = 2,
            MaxQueuedRequests = 3,
        });
        IShapes shapes = server.Proxy(channel: RpcChannelKind.Multiplexed);

        Task<string>[] calls = Enumerable.Range(0, 8).Select(_ => shapes.SlowAsync(600, CancellationToken.None)).ToArray();
        var outcomes = new List<string>();
        foreach (Task<string> call in calls)
        {
            try
            {
                outcomes.Add(await call.WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken));
            }
            catch (RpcException ex) when (ex.Status == RpcStatus.Unavailable)
            {
                Assert.Contains("at its limit", ex.Message);
                outcomes.Add("unavailable");
            }
        }

        // 2 run, 3 wait and run later, 3 are refused at once: every call got an answer.
        Assert.Equal(5, outcomes.Count(o => o == "slow"));
        Assert.Equal(3, outcomes.Count(o => o == "unavailable"));
        Assert.Equal(5, server.Implementation.SlowStarted);
    }

    [Fact]
    public void A_request_channel_client_works_against_a_concurrent_server()
    {
        using var server = TestServer.Start(Transport.Tcp, RpcServerKind.Concurrent);

        IShapes shapes = server.Proxy(channel: RpcChannelKind.Request);

        Assert.Equal(5, shapes.Add(2, 3));
        Assert.Equal("slow", shapes.Slow(10));
    }

    [Fact]
    public void A_plain_ZeroMQ_REQ_client_sending_Hello_gets_BadRequest()
    {
        using var server = TestServer.Start(Transport.Tcp, RpcServerKind.Concurrent);
        using var req = new RequestSocket();
        req.Options.Linger = TimeSpan.Zero;
        req.Connect(server.Endpoint);

        req.SendFrame("Hello");
        NetMQMessage? reply = null;
        Assert.True(req.TryReceiveMultipartMessage(TimeSpan.FromSeconds(1), ref reply), "no reply within a second");

        Assert.Equal(RpcStatus.BadRequest, WireFormat.ParseHeader(reply![0].ToByteArray()).Status);
        Assert.Equal(5, server.Proxy().Add(2, 3));
    }

    [Fact]
    public void A_DEALER_that_sends_no_delimiter_is_told_why()
    {
        using var server = TestServer.Start(Transport.Tcp, RpcServerKind.Concurrent);
        using var dealer = new DealerSocket();
        dealer.Options.Linger = TimeSpan.Zero;
        dealer.Connect(server.Endpoint);

        dealer.SendFrame("Hello");
        NetMQMessage? reply = null;
        Assert.True(dealer.TryReceiveMultipartMessage(TimeSpan.FromSeconds(5), ref reply), "no reply");

        Assert.True(reply![0].IsEmpty);
        Assert.Equal(RpcStatus.BadRequest, WireFormat.ParseHeader(reply[1].ToByteArray()).Status);
        Assert.Contains("no empty delimiter", WireFormat.ReadError(reply[1].ToByteArray()).Message);
    }

    [Fact]
    public void Random_messages_each_get_one_reply_from_a_concurrent_server_too()
    {
        using var server = TestServer.Start(Transport.Tcp, RpcServerKind.Concurrent);
        using var peer = new RawPeer(server.Endpoint);
        var random = new Random(7);

        for (int batch = 0; batch < 10; batch++)
        {
            for (int i = 0; i < 100; i++)
            {
                var frames = new byte[random.Next(1, 4)][];
                for (int f = 0; f < frames.Length; f++)
                {
                    frames[f] = new byte[random.Next(1, 48)];
                    random.NextBytes(frames[f]);
                }

                peer.Send(frames);
            }

            for (int i = 0; i < 100; i++)
            {
                Assert.Single(peer.Receive());
            }
        }

        Assert.Equal(5, server.Proxy().Add(2, 3));
    }

    [Fact]
    public async Task Async_implementations_run_concurrently_up_to_the_limit()
    {
        using var server = TestServer.Start(Transport.Inproc, new RpcServerOptions { Endpoint = "x", Kind = RpcServerKind.Concurrent, MaxConcurrentCalls = 4 });
        IShapes shapes = server.Proxy(channel: RpcChannelKind.Multiplexed);

        await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => shapes.SlowAsync(200, CancellationToken.None)))
            .WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        Assert.Equal(4, server.Implementation.MaxSlowRunning); // overlapped, but never more than MaxConcurrentCalls
        Assert.Equal(10, server.Implementation.SlowStarted); // the other six waited in the queue and ran later
    }
}
