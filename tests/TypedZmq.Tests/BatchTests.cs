using NetMQ;
using NetMQ.Sockets;
using TypedZmq.FaultServer;
using TypedZmq.Tests.Contracts;
using TypedZmq.Tests.Infrastructure;
using static TypedZmq.Tests.Infrastructure.WireFormat;

namespace TypedZmq.Tests;

/// <summary>
/// Batches (docs/protocol.md, "Batches"): several messages in one frame, sent only to a peer that said it reads them.
/// The server side is checked with hand-built frames from a raw DEALER; the client side against a raw ROUTER that plays
/// the server.
/// </summary>
public sealed class BatchTests
{
    private static readonly uint ServiceId = Fnv1a("TypedZmq.Tests.Contracts.IShapes");
    private static readonly uint AddId = Fnv1a("Add(System.Int32,System.Int32)");
    private static readonly uint FailId = Fnv1a("Fail(System.String)");
    private static readonly uint SlowAsyncId = Fnv1a("SlowAsync(System.Int32)");

    private static byte[] Add(ulong requestId, int a, int b, long deadline = 0, uint flags = BatchesWelcome) =>
        Message(Header(1, requestId, ServiceId, AddId, deadline, flags: flags), Int32s(a, b));

    private static byte[] Slow(ulong requestId, int milliseconds) =>
        Message(Header(1, requestId, ServiceId, SlowAsyncId, flags: BatchesWelcome), Int32s(milliseconds));

    private static int Int32(byte[] message) => BitConverter.ToInt32(message, HeaderSize);

    [Fact]
    public void A_batch_runs_in_order_and_its_answers_come_back_in_one_batch_in_the_same_order()
    {
        using var server = TestServer.Start(Transport.Tcp, RpcServerKind.Concurrent);
        using var peer = new RawPeer(server.Endpoint);

        byte[] reply = Assert.Single(peer.Exchange(Batch([.. Enumerable.Range(1, 5).Select(i => Add((ulong)i, i, 100))])));

        List<byte[]> answers = Unbatch(reply);
        Assert.Equal([1UL, 2, 3, 4, 5], answers.Select(a => ParseHeader(a).RequestId));
        Assert.Equal([101, 102, 103, 104, 105], answers.Select(Int32));
        Assert.All(answers, a => Assert.Equal(2, ParseHeader(a).Kind));
        Assert.All(answers, a => Assert.Equal(BatchesWelcome, Flags(a) & BatchesWelcome)); // still invited
        Assert.Equal(5, server.Implementation.Adds);
    }

    [Fact]
    public void A_peer_that_never_says_it_reads_batches_gets_plain_answers_that_invite_it()
    {
        // A version-1 peer: no flag in its requests. It is never sent a batch, whatever it pipelines; the flag in the
        // answers is a bit it ignores.
        using var server = TestServer.Start(Transport.Tcp, RpcServerKind.Concurrent);
        using var peer = new RawPeer(server.Endpoint);

        for (int i = 1; i <= 20; i++)
        {
            peer.Send(Add((ulong)i, i, 1, flags: 0));
        }

        var ids = new List<ulong>();
        for (int i = 1; i <= 20; i++)
        {
            byte[] answer = Assert.Single(peer.Receive());
            Assert.Equal(2, answer[2]);
            Assert.Equal(BatchesWelcome, Flags(answer));
            ids.Add(ParseHeader(answer).RequestId);
        }

        Assert.Equal(Enumerable.Range(1, 20).Select(i => (ulong)i), ids.Order());
    }

    [Fact]
    public async Task Peers_whose_largest_message_is_smaller_than_a_batch_never_say_they_read_batches()
    {
        // ZeroMQ drops the connection of a peer that sends more than MaxMessageSize: with a limit under the largest
        // batch, neither side invites batches.
        using var server = TestServer.Start(Transport.Tcp, new RpcServerOptions { Endpoint = "x", Kind = RpcServerKind.Concurrent, MaxMessageSize = 32 * 1024 });
        using (var peer = new RawPeer(server.Endpoint))
        {
            byte[] reply = Assert.Single(peer.Exchange(Add(1, 1, 1)));
            Assert.Equal(0u, Flags(reply) & BatchesWelcome);
        }

        using var router = new ScriptedRouter();
        using var client = new RpcClient(new RpcClientOptions { Endpoint = router.Endpoint, Channel = RpcChannelKind.Multiplexed, MaxMessageSize = 32 * 1024 });
        Task<int> call = client.CreateProxy<IShapes>().AddAsync(1, 2);
        List<byte[]> requests = router.ReceiveRequests(1, out _);
        Assert.Equal(0u, Flags(requests[0]) & BatchesWelcome);
        router.AnswerSums(requests, invite: true, asBatch: false);
        Assert.Equal(3, await call);
    }

    [Fact]
    public void A_failing_call_in_a_batch_fails_alone()
    {
        using var server = TestServer.Start(Transport.Tcp, RpcServerKind.Concurrent);
        using var peer = new RawPeer(server.Endpoint);

        byte[] reply = Assert.Single(peer.Exchange(Batch(
            Add(1, 1, 1),
            Message(Header(1, 2, ServiceId, FailId, flags: BatchesWelcome), [0xFA, 0xFF, 0xFF, 0xFF, 0x05, 0, 0, 0, .. "boom!"u8]),
            Message(Header(1, 3, ServiceId, 0xDEADBEEF, flags: BatchesWelcome), []),
            Message(Header(1, 4, ServiceId, AddId, flags: BatchesWelcome), Int32s(1)), // one argument short
            Add(5, 2, 2))));

        List<byte[]> answers = Unbatch(reply);
        Assert.Equal([1UL, 2, 3, 4, 5], answers.Select(a => ParseHeader(a).RequestId));
        Assert.Equal(2, Int32(answers[0]));
        Assert.Equal(RpcStatus.RemoteError, ParseHeader(answers[1]).Status);
        Assert.Equal("boom!", ReadError(answers[1]).Message);
        Assert.Equal(RpcStatus.Unimplemented, ParseHeader(answers[2]).Status);
        Assert.Equal(RpcStatus.BadRequest, ParseHeader(answers[3]).Status);
        Assert.Equal(4, Int32(answers[4]));
    }

    [Fact]
    public void A_request_whose_deadline_passed_inside_a_batch_is_not_run_and_the_others_are()
    {
        using var server = TestServer.Start(Transport.Tcp, RpcServerKind.Concurrent);
        using var peer = new RawPeer(server.Endpoint);
        long past = DateTimeOffset.UtcNow.AddSeconds(-5).ToUnixTimeMilliseconds();
        long future = DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeMilliseconds();

        List<byte[]> answers = Unbatch(Assert.Single(peer.Exchange(Batch(Add(1, 1, 1, future), Add(2, 2, 2, past), Add(3, 3, 3)))));

        Assert.Equal(2, Int32(answers[0]));
        Assert.Equal(RpcStatus.DeadlineExceeded, ParseHeader(answers[1]).Status);
        Assert.Equal(2UL, ParseHeader(answers[1]).RequestId);
        Assert.Equal(6, Int32(answers[2]));
        Assert.Equal(2, server.Implementation.Adds);
    }

    [Fact]
    public async Task A_cancel_in_a_batch_stops_only_the_call_it_names()
    {
        using var server = TestServer.Start(Transport.Tcp, RpcServerKind.Concurrent);
        using var peer = new RawPeer(server.Endpoint);

        // Two slow calls; the second batch cancels the first. The first's token fires long before its 60 s, and the
        // second still answers.
        peer.Send(Batch(Slow(1, 60_000), Slow(2, 300)));
        await Eventually.WaitUntil(() => server.Implementation.SlowRunning == 2);
        peer.Send(Batch(Message(Header(6, 1, ServiceId, SlowAsyncId), []), Add(3, 1, 2)));

        var answered = new Dictionary<ulong, byte[]>();
        while (answered.Count < 3)
        {
            foreach (byte[] frame in peer.Receive())
            {
                foreach (byte[] answer in frame[2] == 7 ? Unbatch(frame) : [frame])
                {
                    answered.Add(ParseHeader(answer).RequestId, answer);
                }
            }
        }

        // The cancelled call ends at once with Cancelled (a client that cancelled drops it; the cancel itself is never
        // answered); the other slow call runs to its end.
        Assert.Equal(RpcStatus.Cancelled, ParseHeader(answered[1]).Status);
        Assert.Equal(2, ParseHeader(answered[2]).Kind);
        Assert.Equal(3, Int32(answered[3]));
        await Eventually.WaitUntil(() => server.Implementation.SlowRunning == 0, TimeSpan.FromSeconds(10));
    }

    public static TheoryData<string, byte[]> UnreadableBatches()
    {
        byte[] ok = Add(1, 1, 1);
        byte[] header = Header(7, 0, 0, 0);
        return new TheoryData<string, byte[]>
        {
            { "empty", header },
            { "length beyond the frame", [.. header, .. BitConverter.GetBytes(uint.MaxValue), .. ok] },
            { "length just past the frame", [.. header, .. BitConverter.GetBytes((uint)ok.Length + 1), .. ok] },
            { "message shorter than a header", [.. header, .. BitConverter.GetBytes(4u), 1, 2, 3, 4] },
            { "truncated length", [.. Batch(ok), 7, 0] },
            { "negative length", [.. header, .. BitConverter.GetBytes(-40), .. ok] },
            { "too many messages", Batch([.. Enumerable.Repeat(ok, 1025)]) },
        };
    }

    [Theory]
    [MemberData(nameof(UnreadableBatches))]
    public void A_batch_that_cannot_be_read_is_refused_whole_unrun_and_the_server_keeps_serving(string what, byte[] batch)
    {
        using var server = TestServer.Start(Transport.Tcp, RpcServerKind.Concurrent);
        using var peer = new RawPeer(server.Endpoint);

        byte[] error = Assert.Single(peer.Exchange(batch));

        Assert.True(RpcStatus.BadRequest == ParseHeader(error).Status, what);
        Assert.Equal(0UL, ParseHeader(error).RequestId);
        Assert.Contains("could not read this batch", ReadError(error).Message);
        Assert.Equal(0, server.Implementation.Adds); // nothing in it ran
        Assert.Equal(5, server.Proxy().Add(2, 3));
    }

    [Fact]
    public void A_batch_inside_a_batch_is_refused_and_the_rest_is_served()
    {
        using var server = TestServer.Start(Transport.Tcp, RpcServerKind.Concurrent);
        using var peer = new RawPeer(server.Endpoint);

        List<byte[]> answers = Unbatch(Assert.Single(peer.Exchange(Batch(Add(1, 1, 1), Batch(Add(2, 2, 2), Add(3, 3, 3)), Add(4, 4, 4)))));

        Assert.Equal(3, answers.Count);
        Assert.Equal(RpcStatus.BadRequest, ParseHeader(answers[1]).Status);
        Assert.Contains("batch", ReadError(answers[1]).Message);
        Assert.Equal(8, Int32(answers[2]));
        Assert.Equal(2, server.Implementation.Adds);
    }

    [Fact]
    public void A_reply_server_refuses_a_batch_and_never_invites_one()
    {
        using var server = TestServer.Start(Transport.Tcp, RpcServerKind.Reply);
        using var peer = new RawPeer(server.Endpoint);

        byte[] error = Assert.Single(peer.Exchange(Batch(Add(1, 1, 1), Add(2, 2, 2))));
        Assert.Equal(RpcStatus.BadRequest, ParseHeader(error).Status);
        Assert.Contains("batch", ReadError(error).Message);
        Assert.Equal(0, server.Implementation.Adds);

        byte[] reply = Assert.Single(peer.Exchange(Add(3, 3, 3)));
        Assert.Equal(0u, Flags(reply) & BatchesWelcome);
    }

    [Theory]
    [InlineData(RpcServerKind.Concurrent, false)]
    [InlineData(RpcServerKind.Concurrent, true)]
    [InlineData(RpcServerKind.Reply, false)]
    public async Task Many_concurrent_calls_through_the_multiplexed_channel_each_get_their_own_answer(RpcServerKind kind, bool secure)
    {
        RpcKeyPair serverKey = RpcKeyPair.Generate();
        RpcKeyPair clientKey = RpcKeyPair.Generate();
        using TestServer server = TestServer.Start(Transport.Tcp, new RpcServerOptions
        {
            Endpoint = "set by TestServer",
            Kind = kind,
            Security = secure ? new RpcServerSecurity(serverKey).AllowClient(clientKey.PublicKey, "client") : null,
        });
        using var client = new RpcClient(new RpcClientOptions
        {
            Endpoint = server.Endpoint,
            Channel = RpcChannelKind.Multiplexed,
            Timeout = TimeSpan.FromSeconds(30),
            Security = secure ? new RpcClientSecurity(clientKey, serverKey.PublicKey) : null,
        });
        IShapes shapes = client.CreateProxy<IShapes>();

        for (int round = 0; round < 5; round++)
        {
            int[] sums = await Task.WhenAll(Enumerable.Range(0, 200).Select(i => shapes.AddAsync(i, round)));
            Assert.Equal(Enumerable.Range(0, 200).Select(i => i + round), sums);
        }
    }

    [Fact]
    public async Task The_multiplexed_channel_batches_only_after_the_server_invites_it_and_reads_batched_answers()
    {
        using var server = new ScriptedRouter();
        using var client = new RpcClient(new RpcClientOptions { Endpoint = server.Endpoint, Channel = RpcChannelKind.Multiplexed, Timeout = TimeSpan.FromSeconds(30) });
        IShapes shapes = client.CreateProxy<IShapes>();

        // Not invited: every request travels alone, each saying that the client reads batched answers.
        Task<int[]> first = Task.WhenAll(Enumerable.Range(0, 50).Select(i => shapes.AddAsync(i, 0)));
        List<byte[]> requests = server.ReceiveRequests(50, out int batches);
        Assert.Equal(0, batches);
        Assert.All(requests, r => Assert.Equal(BatchesWelcome, Flags(r) & BatchesWelcome));
        server.AnswerSums(requests, invite: true, asBatch: false);
        Assert.Equal(Enumerable.Range(0, 50), await first);

        // Invited: requests that are ready together travel together. Answered as one batch, in reverse order.
        await Eventually.WaitUntilAsync(async () =>
        {
            Task<int[]> burst = Task.WhenAll(Enumerable.Range(0, 50).Select(i => shapes.AddAsync(i, 1)));
            List<byte[]> sent = server.ReceiveRequests(50, out int batched);
            sent.Reverse();
            server.AnswerSums(sent, invite: true, asBatch: true);
            Assert.Equal(Enumerable.Range(1, 50), await burst);
            return batched > 0;
        });
    }

    [Fact]
    public async Task Calls_of_a_batch_cut_by_a_lost_connection_are_retried_alone_on_the_next_server()
    {
        var first = new ScriptedRouter();
        using var client = new RpcClient(new RpcClientOptions
        {
            Endpoint = first.Endpoint,
            Channel = RpcChannelKind.Multiplexed,
            Timeout = TimeSpan.FromSeconds(30),
            MaxAttempts = 3,
            RetryBackoff = TimeSpan.FromMilliseconds(10),
        });
        ICounter counter = client.CreateProxy<ICounter>();

        // The server invites batches, then gets ten idempotent reads in one or more batches.
        Task<int> warm = counter.GetAsync(0);
        first.AnswerInts(first.ReceiveRequests(1, out _), invite: true);
        Assert.Equal(0, await warm);
        Task<int>[] reads = [];
        List<byte[]> requests = [];
        await Eventually.WaitUntilAsync(async () =>
        {
            reads = [.. Enumerable.Range(0, 10).Select(_ => counter.GetAsync(0))];
            requests = first.ReceiveRequests(10, out int batched);
            if (batched > 0)
            {
                return true;
            }

            first.AnswerInts(requests, invite: true); // all went alone this time: try again
            await Task.WhenAll(reads);
            return false;
        });

        // It answers half of them, and goes away.
        first.AnswerInts(requests.Take(5).ToList(), invite: true);
        await Eventually.WaitUntil(() => reads.Count(r => r.IsCompleted) == 5);
        ulong[] unanswered = [.. requests.Skip(5).Select(r => ParseHeader(r).RequestId).Order()];
        first.Dispose();

        // The other half is sent again, as second attempts, to the next server on the same address. That one has not
        // invited batches, so they travel alone.
        using var second = new ScriptedRouter(first.Port);
        List<byte[]> retries = second.ReceiveRequests(5, out int retryBatches);
        Assert.Equal(0, retryBatches);
        Assert.Equal(unanswered, retries.Select(r => ParseHeader(r).RequestId).Order());
        Assert.All(retries, r => Assert.Equal(2u, (Flags(r) >> 8) & 0xFF));
        second.AnswerInts(retries, invite: true);
        Assert.All(await Task.WhenAll(reads).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken), value => Assert.Equal(0, value));
    }

    /// <summary>A raw ROUTER that plays a TypedZmq server, one step at a time, from the test's thread.</summary>
    private sealed class ScriptedRouter : IDisposable
    {
        private readonly RouterSocket _socket = new();
        private byte[]? _peer;

        public ScriptedRouter(int port = 0)
        {
            _socket.Options.Linger = TimeSpan.Zero;
            if (port == 0)
            {
                Port = _socket.BindRandomPort("tcp://127.0.0.1");
            }
            else
            {
                // The address of a server that just went away: its port may take a moment to be free again.
                Port = port;
                DateTime until = DateTime.UtcNow.AddSeconds(10);
                while (true)
                {
                    try
                    {
                        _socket.Bind($"tcp://127.0.0.1:{port}");
                        break;
                    }
                    catch (NetMQ.AddressAlreadyInUseException) when (DateTime.UtcNow < until)
                    {
                        Thread.Sleep(20);
                    }
                }
            }
        }

        public int Port { get; }

        public string Endpoint => $"tcp://127.0.0.1:{Port}";

        /// <summary>Reads messages until <paramref name="count"/> requests arrived; says how many came in batches of two or more.</summary>
        public List<byte[]> ReceiveRequests(int count, out int batches)
        {
            batches = 0;
            var requests = new List<byte[]>();
            while (requests.Count < count)
            {
                NetMQMessage? message = null;
                Assert.True(_socket.TryReceiveMultipartMessage(TimeSpan.FromSeconds(10), ref message), $"{requests.Count} of {count} requests arrived");
                _peer = message![0].ToByteArray();
                Assert.True(message[1].IsEmpty);
                byte[] frame = message[2].ToByteArray();
                if (frame[2] == 7)
                {
                    batches++;
                    requests.AddRange(Unbatch(frame));
                }
                else
                {
                    requests.Add(frame);
                }
            }

            Assert.All(requests, r => Assert.Equal(1, r[2]));
            return requests;
        }

        public void AnswerSums(List<byte[]> requests, bool invite, bool asBatch) =>
            Answer(requests.Select(r => Int32s(BitConverter.ToInt32(r, HeaderSize) + BitConverter.ToInt32(r, HeaderSize + 4))).ToList(), requests, invite, asBatch);

        public void AnswerInts(List<byte[]> requests, bool invite) =>
            Answer(requests.Select(_ => Int32s(0)).ToList(), requests, invite, asBatch: false);

        private void Answer(List<byte[]> payloads, List<byte[]> requests, bool invite, bool asBatch)
        {
            var answers = new List<byte[]>();
            for (int i = 0; i < requests.Count; i++)
            {
                ParsedHeader request = ParseHeader(requests[i]);
                answers.Add(Message(Header(2, request.RequestId, request.ServiceId, request.MethodId, flags: invite ? BatchesWelcome : 0), payloads[i]));
            }

            foreach (byte[] frame in asBatch ? [Batch([.. answers])] : answers)
            {
                var message = new NetMQMessage();
                message.Append(_peer!);
                message.AppendEmptyFrame();
                message.Append(frame);
                Assert.True(_socket.TrySendMultipartMessage(TimeSpan.FromSeconds(5), message));
            }
        }

        public void Dispose() => _socket.Dispose();
    }
}
