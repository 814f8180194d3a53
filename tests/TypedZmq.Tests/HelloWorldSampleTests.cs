using HelloWorld.Client;
using HelloWorld.Server;
using NetMQ;
using NetMQ.Sockets;
using TypedZmq.Tests.Infrastructure;

namespace TypedZmq.Tests;

/// <summary>The hello-world sample's own server and client code, on a free port instead of 5555.</summary>
public sealed class HelloWorldSampleTests
{
    [Fact]
    public async Task The_client_prints_ten_World_replies_like_the_ZeroMQ_guide()
    {
        using RpcServer server = GreeterServer.Start("tcp://127.0.0.1:0", TextWriter.Null);
        var output = new StringWriter();

        await HelloClient.RunAsync(server.BoundEndpoint!, output, TestContext.Current.CancellationToken);

        string[] lines = output.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"Received World {i}"), lines.Where(l => l.StartsWith("Received", StringComparison.Ordinal)));
        Assert.Equal(["Hello, TypedZmq (1)", "Hello, TypedZmq (2)"], lines.Where(l => l.StartsWith("Hello,", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task The_secure_variant_serves_the_allowed_client_and_refuses_one_without_keys()
    {
        RpcKeyPair serverKey = RpcKeyPair.Generate();
        RpcKeyPair clientKey = RpcKeyPair.Generate();
        using RpcServer server = GreeterServer.Start(
            new RpcServerOptions
            {
                Endpoint = "tcp://127.0.0.1:0",
                Security = new RpcServerSecurity(serverKey).AllowClient(clientKey.PublicKey, "sample client"),
            },
            TextWriter.Null);
        var output = new StringWriter();

        await HelloClient.RunAsync(
            new RpcClientOptions { Endpoint = server.BoundEndpoint!, Security = new RpcClientSecurity(clientKey, serverKey.PublicKey) },
            output,
            TestContext.Current.CancellationToken);

        Assert.Contains("Received World 9", output.ToString());
        var refused = await Assert.ThrowsAsync<RpcException>(() => HelloClient.RunAsync(server.BoundEndpoint!, TextWriter.Null, TestContext.Current.CancellationToken));
        Assert.Equal(RpcStatus.Unauthenticated, refused.Status);
    }

    [Fact]
    public async Task A_plain_ZeroMQ_client_sending_Hello_to_the_sample_server_gets_an_error_and_typed_calls_still_work()
    {
        using RpcServer server = GreeterServer.Start("tcp://127.0.0.1:0", TextWriter.Null);
        using (var req = new RequestSocket())
        {
            req.Options.Linger = TimeSpan.Zero;
            req.Connect(server.BoundEndpoint!);
            req.SendFrame("Hello");

            NetMQMessage? reply = null;
            Assert.True(req.TryReceiveMultipartMessage(TimeSpan.FromSeconds(1), ref reply), "no error reply within a second");
            Assert.Equal(RpcStatus.BadRequest, WireFormat.ParseHeader(reply![0].ToByteArray()).Status);
        }

        var output = new StringWriter();
        await HelloClient.RunAsync(server.BoundEndpoint!, output, TestContext.Current.CancellationToken);
        Assert.Contains("Received World 9", output.ToString());
    }
}
