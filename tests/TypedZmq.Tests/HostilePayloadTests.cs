using NetMQ;
using NetMQ.Sockets;
using TypedZmq.FaultServer;
using TypedZmq.Tests.Contracts;
using TypedZmq.Tests.Infrastructure;
using static TypedZmq.Tests.Infrastructure.WireFormat;

namespace TypedZmq.Tests;

/// <summary>
/// Payloads built to make MemoryPack read outside the message (issue 16: a UTF-8 string prefix of 0x80000000 made
/// MemoryPack 1.21.4 read about 2 GB past the buffer and killed any server). Servers run in child processes here, so a
/// regression shows as a dead process and a failed test, not a dead test host.
/// </summary>
public sealed class HostilePayloadTests
{
    /// <summary>The payload of the 45-byte message in issue 16: a string whose prefix claims 2^31-1 UTF-8 bytes, then "Hello".</summary>
    private static readonly byte[] OverflowingString = [0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, .. "Hello"u8];

    [Fact]
    public async Task The_45_byte_message_that_killed_the_sample_server_gets_BadRequest_and_the_server_keeps_serving()
    {
        string endpoint = "tcp://127.0.0.1:" + Eventually.FreeTcpPort();
        using ChildProcess server = ChildProcess.StartDotnet("HelloWorld.Server", endpoint);
        await server.WaitForLineAsync("Greeter listening", TimeSpan.FromSeconds(30));

        // Exactly the bytes of the report: header (request 1 to IGreeter.SayHello), then the hostile payload.
        byte[] message = [.. Header(kind: 1, requestId: 1, serviceId: 0x52D5C049, methodId: 0xDE700E2B), .. OverflowingString];
        Assert.Equal(45, message.Length);
        Assert.Equal(0x52D5C049u, Fnv1a("HelloWorld.Contracts.IGreeter"));
        Assert.Equal(0xDE700E2Bu, Fnv1a("SayHello(System.String)"));

        (ParsedHeader header, string? error) = ExchangeRaw(endpoint, message);

        Assert.Equal(RpcStatus.BadRequest, header.Status);
        Assert.Contains("string", error);
        Assert.False(server.HasExited, "the server process died");
        using var client = new RpcClient(endpoint);
        Assert.Equal("World", client.CreateProxy<HelloWorld.Contracts.IGreeter>().SayHello("Hello"));
    }

    [Theory]
    [InlineData("reply")]
    [InlineData("concurrent")]
    public async Task Every_overflowing_string_prefix_is_refused_by_both_server_kinds(string kind)
    {
        string endpoint = "tcp://127.0.0.1:" + Eventually.FreeTcpPort();
        using ChildProcess server = (await FaultServerProcess.StartAsync(endpoint, kind)).Process;
        uint serviceId = Fnv1a("TypedZmq.FaultServer.ICounter");
        uint echoId = Fnv1a("Echo(System.String)");

        // Every prefix whose byte count overflows when MemoryPack adds 4, and lengths just past the end, both forms.
        int[] prefixes = [int.MinValue, int.MinValue + 1, int.MinValue + 2, int.MinValue + 3, ~10, ~100, 5, int.MaxValue];
        foreach (int prefix in prefixes)
        {
            byte[] payload = [.. Int32s(prefix, 5), .. "Hello"u8];
            (ParsedHeader header, string? error) = ExchangeRaw(endpoint, [.. Header(1, 7, serviceId, echoId), .. payload]);
            Assert.True(header.Status == RpcStatus.BadRequest, $"prefix 0x{prefix:x8}: {header.Status} {error}");
        }

        Assert.False(server.HasExited, "the server process died");
        using var client = new RpcClient(endpoint);
        Assert.Equal("still here", client.CreateProxy<ICounter>().Echo("still here"));
    }

    [Theory]
    [InlineData(RpcChannelKind.Request)]
    [InlineData(RpcChannelKind.Multiplexed)]
    public void A_hostile_reply_fails_the_call_and_the_client_keeps_working(RpcChannelKind channel)
    {
        using var fake = new FakeServer();
        using var client = new RpcClient(new RpcClientOptions { Endpoint = fake.Endpoint, Channel = channel, Timeout = TimeSpan.FromSeconds(5) });
        IShapes shapes = client.CreateProxy<IShapes>();

        // A reply whose string claims 2^31-1 UTF-8 bytes, then an error reply whose error body does the same.
        fake.Answer(kind: 2, status: RpcStatus.Ok, OverflowingString);
        var reply = Assert.Throws<RpcException>(() => shapes.Echo("x"));
        Assert.Equal(RpcStatus.Internal, reply.Status);
        Assert.Contains("not a valid", reply.Message);

        fake.Answer(kind: 3, status: RpcStatus.RemoteError, OverflowingString);
        var error = Assert.Throws<RpcException>(() => shapes.Echo("x"));
        Assert.Equal(RpcStatus.RemoteError, error.Status);
        Assert.Contains("could not be decoded", error.Message);

        fake.Answer(kind: 2, status: RpcStatus.Ok, [.. Int32s(~2, 2), .. "ok"u8]);
        Assert.Equal("ok", shapes.Echo("x"));
    }

    private static (ParsedHeader Header, string? Error) ExchangeRaw(string endpoint, byte[] message)
    {
        using var req = new RequestSocket();
        req.Options.Linger = TimeSpan.Zero;
        req.Connect(endpoint);
        req.SendFrame(message);
        byte[]? reply = null;
        Assert.True(req.TryReceiveFrameBytes(TimeSpan.FromSeconds(5), out reply), "no reply within 5 s: the server is dead or stuck");
        ParsedHeader header = ParseHeader(reply!);
        return (header, header.Kind == 3 ? ReadError(reply!).Message : null);
    }
}
