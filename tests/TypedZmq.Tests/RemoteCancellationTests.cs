using TypedZmq.Tests.Contracts;
using TypedZmq.Tests.Infrastructure;
using static TypedZmq.Tests.Infrastructure.WireFormat;

namespace TypedZmq.Tests;

/// <summary>
/// A caller that cancels stops the work on the server (docs/protocol.md, "Cancel"; docs/reliability.md): the
/// multiplexed channel sends a cancel, the concurrent server fires the call's token or drops the request from its queue.
/// </summary>
public sealed class RemoteCancellationTests
{
    private static readonly uint ServiceId = Fnv1a("TypedZmq.Tests.Contracts.IShapes");
    private static readonly uint SlowAsyncId = Fnv1a("SlowAsync(System.Int32)");
    private static readonly uint AddId = Fnv1a("Add(System.Int32,System.Int32)");

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_cancelled_call_fires_its_token_on_the_server_long_before_the_method_would_end(bool secure)
    {
        RpcKeyPair serverKey = RpcKeyPair.Generate();
        RpcKeyPair clientKey = RpcKeyPair.Generate();
        using TestServer server = TestServer.Start(Transport.Tcp, new RpcServerOptions
        {
            Endpoint = "set by TestServer",
            Kind = RpcServerKind.Concurrent,
            Security = secure ? new RpcServerSecurity(serverKey).AllowClient(clientKey.PublicKey, "client") : null,
        });
        using var client = new RpcClient(new RpcClientOptions
        {
            Endpoint = server.Endpoint,
            Channel = RpcChannelKind.Multiplexed,
            Security = secure ? new RpcClientSecurity(clientKey, serverKey.PublicKey) : null,
        });
        IShapes shapes = client.CreateProxy<IShapes>();
        using var cancel = new CancellationTokenSource();

        Task<string> call = shapes.SlowAsync(60_000, cancel.Token);
        await Eventually.WaitUntil(() => server.Implementation.SlowRunning == 1);
        cancel.CancelAfter(100);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        await Eventually.WaitUntil(() => server.Implementation.SlowRunning == 0); // 10 s at most, against the method's 60 s
        Assert.Equal(5, await shapes.AddAsync(2, 3));
    }

    [Fact]
    public async Task A_cancelled_request_that_waits_in_the_queue_never_runs()
    {
        using TestServer server = TestServer.Start(Transport.Inproc, new RpcServerOptions
        {
            Endpoint = "set by TestServer",
            Kind = RpcServerKind.Concurrent,
            MaxConcurrentCalls = 1,
        });
        IShapes shapes = server.Proxy(channel: RpcChannelKind.Multiplexed);
        using var first = new CancellationTokenSource();
        using var second = new CancellationTokenSource();

        Task<string> running = shapes.SlowAsync(60_000, first.Token);
        await Eventually.WaitUntil(() => server.Implementation.SlowRunning == 1);
        Task<string> queued = shapes.SlowAsync(60_000, second.Token);
        await Eventually.WaitUntil(() => server.Server.QueuedRequests == 1); // it waits in the server's queue
        second.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued);
        first.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running);
        await Eventually.WaitUntil(() => server.Implementation.SlowRunning == 0);

        Assert.Equal(7, await shapes.AddAsync(3, 4)); // served after the queue was pumped
        Assert.Equal(1, server.Implementation.SlowStarted);
    }

    [Fact]
    public async Task Only_the_connection_that_sent_a_request_can_cancel_it()
    {
        using TestServer server = TestServer.Start(Transport.Inproc, RpcServerKind.Concurrent);
        using var owner = new RawPeer(server.Endpoint);
        using var stranger = new RawPeer(server.Endpoint);
        owner.Send(Message(Header(1, 42, ServiceId, SlowAsyncId), Int32s(60_000)));
        await Eventually.WaitUntil(() => server.Implementation.SlowRunning == 1);

        // The stranger's cancel, then a call on the same connection: once that is answered, the cancel has been read.
        stranger.Send(Header(6, 42, ServiceId, SlowAsyncId));
        Assert.Equal(2, ParseHeader(stranger.Exchange(Message(Header(1, 43, ServiceId, AddId), Int32s(1, 1))).Single()).Kind);
        Assert.Equal(1, server.Implementation.SlowRunning);

        owner.Send(Header(6, 42, ServiceId, SlowAsyncId));
        byte[] answer = owner.Receive().Single(); // the cancelled call's own answer
        Assert.Equal(RpcStatus.Cancelled, ParseHeader(answer).Status);
        Assert.Contains("client cancelled", ReadError(answer).Message);
        await Eventually.WaitUntil(() => server.Implementation.SlowRunning == 0);
    }

    [Fact]
    public async Task A_cancelled_call_is_not_the_answer_the_reply_cache_gives_its_retry()
    {
        using TestServer server = TestServer.Start(Transport.Inproc, new RpcServerOptions
        {
            Endpoint = "set by TestServer",
            Kind = RpcServerKind.Concurrent,
            ReplyCacheSize = 100,
        });
        using var peer = new RawPeer(server.Endpoint);
        peer.Send(Message(Header(1, 7, ServiceId, SlowAsyncId), Int32s(60_000)));
        await Eventually.WaitUntil(() => server.Implementation.SlowRunning == 1);
        peer.Send(Header(6, 7, ServiceId, SlowAsyncId));
        Assert.Equal(RpcStatus.Cancelled, ParseHeader(peer.Receive().Single()).Status);

        // The same request again (a retry after the caller's connection came back): run, not answered "cancelled".
        peer.Send(Message(Header(1, 7, ServiceId, SlowAsyncId), Int32s(10)));
        byte[] answer = peer.Receive().Single();
        Assert.Equal(2, ParseHeader(answer).Kind);
        Assert.Equal(2, server.Implementation.SlowStarted);
    }
}
