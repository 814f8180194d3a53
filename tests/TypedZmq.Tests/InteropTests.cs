using System.Diagnostics;
using HelloWorld.Server;
using TypedZmq.Tests.Infrastructure;

namespace TypedZmq.Tests;

/// <summary>
/// A client written in Python with pyzmq (libzmq, not NetMQ) from docs/protocol.md alone calls the sample server:
/// proof that the document is enough to implement the protocol, and that real ZeroMQ peers interoperate.
/// </summary>
public sealed class InteropTests
{
    [Fact]
    public async Task A_pyzmq_client_following_the_protocol_document_gets_typed_replies_and_clear_errors()
    {
        string python = FindPythonWithZmq();
        var seen = new System.Collections.Concurrent.ConcurrentQueue<RpcMetadata>();
        using var server = new RpcServer(new RpcServerOptions { Endpoint = "tcp://127.0.0.1:0", Interceptors = { new MetadataRecorder(seen) } });
        server.AddService<HelloWorld.Contracts.IGreeter>(new Greeter(TextWriter.Null));
        server.Start();
        string script = Path.Combine(AppContext.BaseDirectory, "Interop", "typed_client.py");

        string output = await RunAsync(python, [script, server.BoundEndpoint!]);

        Assert.Contains("typed reply: World", output);
        Assert.Contains("typed reply with metadata: World", output);
        Assert.Contains("plain Hello: kind=3 status=BadRequest message=TypedZmq could not read this request", output);
        RpcMetadata[] calls = seen.ToArray();
        Assert.Equal(2, calls.Length);
        Assert.Empty(calls[0]);
        Assert.Equal("py-123", calls[1].GetString("x-trace"));
        Assert.True(calls[1].TryGetValue("x-bin", out ReadOnlyMemory<byte> binary));
        Assert.Equal(new byte[] { 0x00, 0xFF }, binary.ToArray());
    }

    [Fact]
    public async Task A_pyzmq_client_stays_connected_through_idle_time_to_a_server_with_heartbeats()
    {
        // The server pings every 100 ms and drops a connection silent for 500 ms: libzmq must answer its pings
        // through the client's two idle seconds, or the second call's reply has nowhere to go.
        string python = FindPythonWithZmq();
        using var server = new RpcServer(new RpcServerOptions
        {
            Endpoint = "tcp://127.0.0.1:0",
            Kind = RpcServerKind.Concurrent,
            HeartbeatInterval = TimeSpan.FromMilliseconds(100),
            HeartbeatTimeout = TimeSpan.FromMilliseconds(500),
        });
        server.AddService<HelloWorld.Contracts.IGreeter>(new Greeter(TextWriter.Null));
        server.Start();
        string script = Path.Combine(AppContext.BaseDirectory, "Interop", "typed_client.py");

        string output = await RunAsync(python, [script, server.BoundEndpoint!, "2"]);

        Assert.Contains("typed reply: World", output);
        Assert.Contains("typed reply with metadata: World", output);
        Assert.True(server.ConnectionsLost <= 1, $"{server.ConnectionsLost} connections lost"); // at most the script closing at its end (maybe not read yet), never one to heartbeats during the pause
    }

    [Fact]
    public async Task A_pyzmq_client_following_the_protocol_document_is_invited_to_batch_and_gets_a_batch_answered()
    {
        string python = FindPythonWithZmq();
        using var server = new RpcServer(new RpcServerOptions { Endpoint = "tcp://127.0.0.1:0", Kind = RpcServerKind.Concurrent });
        server.AddService<HelloWorld.Contracts.IGreeter>(new Greeter(TextWriter.Null));
        server.Start();
        string script = Path.Combine(AppContext.BaseDirectory, "Interop", "batch_client.py");

        string output = await RunAsync(python, [script, server.BoundEndpoint!]);

        Assert.Contains("invited: True", output);
        Assert.Contains("batched replies: 2=World 3=World 4=World in 1 message(s)", output); // served in one turn, answered in one batch
    }

    [Theory]
    [InlineData(RpcServerKind.Reply)]
    [InlineData(RpcServerKind.Concurrent)]
    public async Task A_PyNaCl_client_following_the_protocol_document_makes_an_authenticated_call_and_cannot_replay_it(RpcServerKind kind)
    {
        string python = FindPythonWithZmq();
        RpcKeyPair serverKey = RpcKeyPair.Generate();
        RpcKeyPair pythonKey = RpcKeyPair.Generate();
        var seen = new System.Collections.Concurrent.ConcurrentQueue<string?>();
        var greeter = new Greeter(TextWriter.Null);
        using var server = new RpcServer(new RpcServerOptions
        {
            Endpoint = "tcp://127.0.0.1:0",
            Kind = kind,
            Security = new RpcServerSecurity(serverKey).AllowClient(pythonKey.PublicKey, "python"),
            Interceptors = { new PeerRecorder(seen) },
        });
        server.AddService<HelloWorld.Contracts.IGreeter>(greeter);
        server.Start();
        string script = Path.Combine(AppContext.BaseDirectory, "Interop", "secure_client.py");

        string output = await RunAsync(python, [script, server.BoundEndpoint!, serverKey.PublicKey.ToString(), pythonKey.ExportSecretKey()]);

        Assert.Contains("secure reply: World", output);
        Assert.Contains("replay: kind=3 status=Unauthenticated message=TypedZmq refused this request: the request was seen before", output);
        Assert.Contains("plain request: kind=3 status=Unauthenticated", output);
        Assert.Equal(["python"], seen.ToArray());
    }

    [Theory]
    [InlineData(RpcServerKind.Reply)]
    [InlineData(RpcServerKind.Concurrent)]
    public async Task Thousands_of_random_messages_from_pyzmq_each_get_one_reply_and_the_server_keeps_serving(RpcServerKind kind)
    {
        string python = FindPythonWithZmq();
        using var server = new RpcServer(new RpcServerOptions { Endpoint = "tcp://127.0.0.1:0", Kind = kind });
        server.AddService<Contracts.IShapes>(new Contracts.Shapes());
        server.Start();
        string script = Path.Combine(AppContext.BaseDirectory, "Interop", "fuzz_client.py");

        string output = await RunAsync(python, [script, server.BoundEndpoint!, "5000", "20261127"]);

        Assert.Contains("replies 5000", output);
        using var client = new RpcClient(server.BoundEndpoint!);
        Assert.Equal(5, client.CreateProxy<Contracts.IShapes>().Add(2, 3));
    }

    [Theory]
    [InlineData(RpcServerKind.Reply)]
    [InlineData(RpcServerKind.Concurrent)]
    public async Task A_pyzmq_client_following_the_protocol_document_reads_a_stream(RpcServerKind kind)
    {
        string python = FindPythonWithZmq();
        using var server = new RpcServer(new RpcServerOptions { Endpoint = "tcp://127.0.0.1:0", Kind = kind });
        server.AddService<Contracts.IStreams>(new Contracts.Streams());
        server.Start();
        string script = Path.Combine(AppContext.BaseDirectory, "Interop", "stream_client.py");

        string output = await RunAsync(python, [script, server.BoundEndpoint!, "read", "1000", "64"]);

        Assert.Contains("stream: 1000 items in order: True, in 16 pulls", output); // 15 full chunks, then 40 items and the end
        Assert.Equal(0, server.OpenStreams);
    }

    [Fact]
    public async Task A_client_process_killed_mid_stream_ends_the_stream_on_the_server()
    {
        string python = FindPythonWithZmq();
        var streams = new Contracts.Streams();
        using var server = new RpcServer(new RpcServerOptions { Endpoint = "tcp://127.0.0.1:0", Kind = RpcServerKind.Concurrent });
        server.AddService<Contracts.IStreams>(streams);
        server.Start();
        string script = Path.Combine(AppContext.BaseDirectory, "Interop", "stream_client.py");
        using ChildProcess client = ChildProcess.Start(python, script, server.BoundEndpoint!, "hold");
        await client.WaitForLineAsync("holding after", TimeSpan.FromSeconds(30));
        Assert.Equal(1, server.OpenStreams);

        client.Kill();

        // The connection ends with the process: its stream ends, and the producer's token fires.
        await Eventually.WaitUntil(() => server.OpenStreams == 0 && streams.Stopped == 1 && streams.Running == 0, TimeSpan.FromSeconds(15));
    }

    private static async Task<string> RunAsync(string program, string[] arguments)
    {
        using ChildProcess child = await ChildProcess.RunAsync(TimeSpan.FromSeconds(60), program, arguments);
        Assert.True(child.ExitCode == 0, $"{program} exited with {child.ExitCode}: {child.Errors}");
        return child.Output;
    }

    private static string FindPythonWithZmq()
    {
        // Debian's interpreter has python3-zmq; another python3 earlier on PATH may not (see TOOLCHAIN.md).
        foreach (string candidate in new[] { "/usr/bin/python3", "python3" })
        {
            try
            {
                using Process? probe = Process.Start(new ProcessStartInfo(candidate, ["-c", "import zmq, nacl"])
                {
                    RedirectStandardError = true,
                    RedirectStandardOutput = true,
                });
                if (probe is not null && probe.WaitForExit(TimeSpan.FromSeconds(20)) && probe.ExitCode == 0)
                {
                    return candidate;
                }
            }
            catch (System.ComponentModel.Win32Exception)
            {
                // Not installed under that name; try the next.
            }
        }

        const string Missing = "pyzmq or PyNaCl is not installed (on Debian: apt-get install -y python3-zmq python3-nacl); .ci/run installs them.";
        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            Assert.Fail(Missing);
        }

        Assert.Skip(Missing);
        return "";
    }

    private sealed class PeerRecorder(System.Collections.Concurrent.ConcurrentQueue<string?> seen) : RpcServerInterceptor
    {
        public override ValueTask InterceptAsync(RpcCallContext context, RpcServerContinuation next)
        {
            seen.Enqueue(context.Peer.Identity);
            return next(context);
        }
    }

    private sealed class MetadataRecorder(System.Collections.Concurrent.ConcurrentQueue<RpcMetadata> seen) : RpcServerInterceptor
    {
        public override ValueTask InterceptAsync(RpcCallContext context, RpcServerContinuation next)
        {
            seen.Enqueue(context.RequestMetadata);
            return next(context);
        }
    }
}
