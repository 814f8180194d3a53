using System.Diagnostics;
using System.Text;
using NetMQ;
using NetMQ.Sockets;
using TypedZmq.Tests.Infrastructure;
using static TypedZmq.Tests.Infrastructure.WireFormat;

namespace TypedZmq.Tests;

/// <summary>
/// Peers that are not TypedZmq, or send frames the server cannot parse, get a clear error reply, and the server keeps
/// serving typed calls. Frames here are built by hand from docs/protocol.md.
/// </summary>
public sealed class BadInputTests : TransportTheories
{
    private const string ServiceName = "TypedZmq.Tests.Contracts.IShapes";
    private static readonly uint ServiceId = Fnv1a(ServiceName);
    private static readonly uint AddId = Fnv1a("Add(System.Int32,System.Int32)");

    [Theory]
    [MemberData(nameof(Transports))]
    public void A_plain_ZeroMQ_REQ_client_sending_Hello_gets_BadRequest_within_a_second(Transport transport)
    {
        using var server = TestServer.Start(transport);
        using var req = new RequestSocket();
        req.Options.Linger = TimeSpan.Zero;
        req.Connect(server.Endpoint);

        var watch = Stopwatch.StartNew();
        req.SendFrame("Hello");
        NetMQMessage? reply = null;
        bool answered = req.TryReceiveMultipartMessage(TimeSpan.FromSeconds(1), ref reply);
        watch.Stop();

        Assert.True(answered, $"no reply within a second (waited {watch.Elapsed})");
        Assert.Equal(1, reply!.FrameCount);
        ParsedHeader header = ParseHeader(reply[0].ToByteArray());
        Assert.Equal(3, header.Kind);
        Assert.Equal(RpcStatus.BadRequest, header.Status);
        Assert.Contains("does not start with a TypedZmq header", ReadError(reply[0].ToByteArray()).Message);
        Assert.Equal(5, server.Proxy().Add(2, 3));
    }

    [Fact]
    public void A_request_built_from_the_protocol_document_is_answered()
    {
        using var server = TestServer.Start(Transport.Tcp);
        using var peer = new RawPeer(server.Endpoint);

        List<byte[]> reply = peer.Exchange(Message(Header(kind: 1, requestId: 42, ServiceId, AddId), Int32s(2, 3)));

        byte[] frame = Assert.Single(reply);
        ParsedHeader header = ParseHeader(frame);
        Assert.Equal(new ParsedHeader(0x54, 1, 2, RpcStatus.Ok, 42, ServiceId, AddId, 0), header);
        Assert.Equal(Int32s(5), Payload(frame));
    }

    public static TheoryData<string, byte[][], RpcStatus, string> Malformed => new()
    {
        { "empty frame", [[]], RpcStatus.BadRequest, "does not start with a TypedZmq header" },
        { "text", [Encoding.UTF8.GetBytes("GET / HTTP/1.1")], RpcStatus.BadRequest, "does not start with a TypedZmq header" },
        { "two frames", [Header(1, 7, ServiceId, AddId), Int32s(1, 2)], RpcStatus.BadRequest, "exactly one frame" },
        { "three frames", [Message(Header(1, 7, ServiceId, AddId), Int32s(1, 2)), [9], [9]], RpcStatus.BadRequest, "exactly one frame" },
        { "future version", [Message(Header(1, 7, ServiceId, AddId, version: 2), Int32s(1, 2))], RpcStatus.UnsupportedVersion, "version 2" },
        { "short header", [Header(1, 7, ServiceId, AddId)[..31]], RpcStatus.BadRequest, "shorter than the 32-byte header" },
        { "reply kind", [Message(Header(2, 7, ServiceId, AddId), Int32s(1, 2))], RpcStatus.BadRequest, "expected a request" },
        { "unknown kind", [Message(Header(9, 7, ServiceId, AddId), Int32s(1, 2))], RpcStatus.BadRequest, "unknown message kind" },
        { "no payload", [Header(1, 7, ServiceId, AddId)], RpcStatus.BadRequest, "could not be decoded" },
        { "truncated payload", [Message(Header(1, 7, ServiceId, AddId), [1, 2, 3])], RpcStatus.BadRequest, "could not be decoded" },
        { "trailing bytes", [Message(Header(1, 7, ServiceId, AddId), Int32s(1, 2, 3))], RpcStatus.BadRequest, "4 bytes left" },
        { "unknown method", [Message(Header(1, 7, ServiceId, 0xDEADBEEF), Int32s(1, 2))], RpcStatus.Unimplemented, "no method with id 0xdeadbeef" },
        { "unknown service", [Message(Header(1, 7, 0xDEADBEEF, AddId), Int32s(1, 2))], RpcStatus.Unimplemented, "no service with id 0xdeadbeef" },
        { "expired deadline", [Message(Header(1, 7, ServiceId, AddId, deadline: 1), Int32s(1, 2))], RpcStatus.DeadlineExceeded, "was not run" },
        { "metadata flag, no block", [Header(1, 7, ServiceId, AddId, flags: HasMetadata)], RpcStatus.BadRequest, "ends before its length" },
        { "metadata block past the end", [Message(Header(1, 7, ServiceId, AddId, flags: HasMetadata), Int32s(100, 1, 2))], RpcStatus.BadRequest, "claims 100 bytes" },
        { "metadata block over 16 KiB", [Message(Header(1, 7, ServiceId, AddId, flags: HasMetadata), [.. Int32s(20_000), .. new byte[20_000]])], RpcStatus.BadRequest, "at most 16380" },
        { "empty metadata key", [Message(Header(1, 7, ServiceId, AddId, flags: HasMetadata), [.. Int32s(5), 0, 0, 0, 0, 0, .. Int32s(1, 2)])], RpcStatus.BadRequest, "is empty or runs past" },
        { "metadata key with a space", [Message(Header(1, 7, ServiceId, AddId, flags: HasMetadata), [.. MetadataBlock(("a b", [])), .. Int32s(1, 2)])], RpcStatus.BadRequest, "not printable ASCII" },
        { "metadata value past its block", [Message(Header(1, 7, ServiceId, AddId, flags: HasMetadata), [.. Int32s(6), 1, (byte)'k', .. Int32s(50), .. Int32s(1, 2)])], RpcStatus.BadRequest, "claims 50 bytes" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Malformed_requests_get_a_clear_error_and_the_server_keeps_serving(string what, byte[][] frames, RpcStatus status, string message)
    {
        using var server = TestServer.Start(Transport.Tcp);
        using var peer = new RawPeer(server.Endpoint);

        List<byte[]> reply = peer.Exchange(frames);

        byte[] frame = Assert.Single(reply);
        ParsedHeader header = ParseHeader(frame);
        Assert.Equal(3, header.Kind);
        Assert.True(status == header.Status, $"{what}: expected {status}, got {header.Status}");
        Assert.Contains(message, ReadError(frame).Message);
        Assert.Equal(0, server.Implementation.Adds);
        Assert.Equal(5, server.Proxy().Add(2, 3));
    }

    [Fact]
    public void A_request_with_metadata_built_from_the_protocol_document_is_answered()
    {
        using var server = TestServer.Start(Transport.Tcp);
        using var peer = new RawPeer(server.Endpoint);
        byte[] block = MetadataBlock(("x-trace", Encoding.ASCII.GetBytes("abc")), ("x-empty", []));

        List<byte[]> reply = peer.Exchange(Message(Header(kind: 1, requestId: 43, ServiceId, AddId, flags: HasMetadata | (1 << 8)), [.. block, .. Int32s(2, 3)]));

        byte[] frame = Assert.Single(reply);
        Assert.Equal(RpcStatus.Ok, ParseHeader(frame).Status);
        Assert.Equal(Int32s(5), Payload(frame));
    }

    [Fact]
    public void The_error_reply_echoes_the_request_id_when_the_header_parses()
    {
        using var server = TestServer.Start(Transport.Inproc);
        using var peer = new RawPeer(server.Endpoint);

        List<byte[]> reply = peer.Exchange(Header(1, 0xABCDEF, ServiceId, 0x1234));

        Assert.Equal(0xABCDEFUL, ParseHeader(reply[0]).RequestId);
    }

    [Fact]
    public void Every_one_of_many_random_messages_gets_exactly_one_reply()
    {
        using var server = TestServer.Start(Transport.Tcp);
        using var peer = new RawPeer(server.Endpoint);
        var random = new Random(20261127);
        const int Batches = 20;
        const int BatchSize = 100;

        // Pipelined in batches: a REP socket drops replies to a peer whose queue is full (ZeroMQ's high-water mark,
        // 1000 by default), so a peer must read its replies as it goes; within a batch none may be missing.
        for (int batch = 0; batch < Batches; batch++)
        {
            for (int i = 0; i < BatchSize; i++)
            {
                peer.Send(RandomMessage(random, (batch * BatchSize) + i));
            }

            for (int i = 0; i < BatchSize; i++)
            {
                byte[] reply = Assert.Single(peer.Receive());
                Assert.Equal(0x54, reply[0]);
            }
        }

        Assert.Null(peer.TryReceive(TimeSpan.FromMilliseconds(200)));
        Assert.Equal(5, server.Proxy().Add(2, 3));
    }

    private static byte[][] RandomMessage(Random random, int index)
    {
        int frameCount = random.Next(1, 5);
        var frames = new byte[frameCount][];
        for (int f = 0; f < frameCount; f++)
        {
            frames[f] = new byte[random.Next(0, 64)];
            random.NextBytes(frames[f]);
        }

        // Half of them look like TypedZmq at first glance, so the deeper checks get exercised too.
        if (index % 2 == 0)
        {
            frames[0] = Message(Header(
                (byte)random.Next(0, 4),
                (ulong)index,
                random.Next(2) == 0 ? ServiceId : (uint)random.Next(),
                random.Next(2) == 0 ? AddId : (uint)random.Next()), frames[0]);
        }

        return frames;
    }

    [Fact]
    public void An_oversize_message_is_dropped_and_the_server_keeps_serving()
    {
        using var server = TestServer.Start(Transport.Tcp, new RpcServerOptions { Endpoint = "unused", MaxMessageSize = 1024 });
        using var peer = new RawPeer(server.Endpoint);

        peer.Send(Message(Header(1, 1, ServiceId, AddId), new byte[64 * 1024]));

        Assert.Equal(5, server.Proxy().Add(2, 3));
        Assert.Equal(1, server.Implementation.Adds);
    }
}
