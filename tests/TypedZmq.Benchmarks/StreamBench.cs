using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using StreamJsonRpc;

namespace TypedZmq.Benchmarks;

/// <summary>
/// Streams (docs/streams.md): items per second of a server stream of 10 B and 1 KiB items, for TypedZmq on both
/// channels, against calling a method once per item, gRPC server streaming and StreamJsonRpc's IAsyncEnumerable; then
/// how far each producer runs ahead of a slow reader (what a slow consumer makes the other side hold).
/// </summary>
internal static class StreamBench
{
    private const int ItemsPerStream = 10_000;

    // Clients of the items/s rows, disposed when they are done (a client left running outlives NetMQ's cleanup).
    private static readonly List<IDisposable> s_owned = [];

    public static async Task RunAsync(int rounds, TimeSpan duration, StringBuilder report)
    {
        report.AppendLine("## Streams");
        report.AppendLine();
        report.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"A server stream of {ItemsPerStream:N0} items read to the end, again and again, for {duration.TotalSeconds:0.##} s; {rounds} rounds, median items/s. ") +
            "Servers in child processes, 127.0.0.1. \"One call per item\" is the request channel calling Echo once per item, one at a time.");
        report.AppendLine();
        report.AppendLine("| reader | 10 B items | 1 KiB items |");
        report.AppendLine("|---|---:|---:|");
        var readers = new (string Name, string Server, Func<string, Task<Func<string, Task<long>>>> Connect)[]
        {
            ("TypedZmq stream, multiplexed channel", Servers.TypedConcurrent, address => ConnectTyped(address, RpcChannelKind.Multiplexed)),
            ("TypedZmq stream, request channel", Servers.TypedConcurrent, address => ConnectTyped(address, RpcChannelKind.Request)),
            ("TypedZmq, one call per item (request channel)", Servers.TypedReply, ConnectPerCall),
            ("gRPC server streaming", Servers.Grpc, ConnectGrpc),
            ("StreamJsonRpc IAsyncEnumerable (MessagePack, TCP)", Servers.JsonRpc, ConnectJsonRpc),
        };

        var results = new Dictionary<(int Reader, int Size), List<double>>();
        int[] sizes = [10, 1024];
        var servers = new List<Process>();
        try
        {
            var streams = new Func<string, Task<long>>[readers.Length];
            for (int r = 0; r < readers.Length; r++)
            {
                (Process server, string address) = await ServerProcesses.StartAsync(readers[r].Server);
                servers.Add(server);
                streams[r] = await readers[r].Connect(address);
                await Measure(streams[r], "xxxxxxxxxx", TimeSpan.FromMilliseconds(500)); // warm up
            }

            for (int round = 0; round < rounds; round++)
            {
                foreach (int size in sizes)
                {
                    string payload = new('x', size);
                    for (int i = 0; i < readers.Length; i++)
                    {
                        int r = (i + round) % readers.Length;
                        double itemsPerSecond = await Measure(streams[r], payload, duration);
                        (results.TryGetValue((r, size), out List<double>? list) ? list : results[(r, size)] = []).Add(itemsPerSecond);
                        Console.Error.WriteLine($"streams: {readers[r].Name}, {size} B: {itemsPerSecond:N0} items/s");
                    }
                }
            }
        }
        finally
        {
            foreach (IDisposable owned in s_owned)
            {
                owned.Dispose();
            }

            s_owned.Clear();
            foreach (Process server in servers)
            {
                ServerProcesses.Stop(server);
            }
        }

        for (int r = 0; r < readers.Length; r++)
        {
            report.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {readers[r].Name} | {ServerProcesses.Median(results[(r, 10)]):N0} | {ServerProcesses.Median(results[(r, 1024)]):N0} |"));
        }

        report.AppendLine();
        report.AppendLine("How far the producer runs ahead of a reader that takes 5 ms per item (1 KiB items, 200 items read, servers in this " +
            "process so that their producers can be counted): items produced but not yet read, held in buffers between them.");
        report.AppendLine();
        report.AppendLine("| reader | items ahead | about |");
        report.AppendLine("|---|---:|---:|");
        foreach ((string name, Func<Task<long>> lead) in new (string, Func<Task<long>>)[]
        {
            ("TypedZmq, multiplexed channel (credit 64, the default)", () => TypedLeadAsync(RpcChannelKind.Multiplexed)),
            ("TypedZmq, request channel (credit 64)", () => TypedLeadAsync(RpcChannelKind.Request)),
            ("gRPC server streaming", GrpcLeadAsync),
            ("StreamJsonRpc IAsyncEnumerable", JsonRpcLeadAsync),
        })
        {
            long ahead = await lead();
            report.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {ahead:N0} | {ahead:N0} KiB |"));
            Console.Error.WriteLine($"streams: {name}: {ahead:N0} items ahead");
        }

        report.AppendLine();
    }

    private static async Task<double> Measure(Func<string, Task<long>> readStream, string payload, TimeSpan duration)
    {
        long items = 0;
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < duration)
        {
            items += await readStream(payload);
        }

        return items / watch.Elapsed.TotalSeconds;
    }

    private static Task<Func<string, Task<long>>> ConnectTyped(string address, RpcChannelKind channel)
    {
        var client = new RpcClient(new RpcClientOptions { Endpoint = address, Channel = channel, StreamCredit = 1024 });
        s_owned.Add(client);
        IBench bench = client.CreateProxy<IBench>();
        return Task.FromResult<Func<string, Task<long>>>(async payload =>
        {
            long count = 0;
            await foreach (string item in bench.Items(payload, ItemsPerStream, CancellationToken.None).ConfigureAwait(false))
            {
                count += item.Length == payload.Length ? 1 : throw new InvalidOperationException("stream item mismatch");
            }

            return count;
        });
    }

    private static Task<Func<string, Task<long>>> ConnectPerCall(string address)
    {
        var client = new RpcClient(new RpcClientOptions { Endpoint = address });
        s_owned.Add(client);
        IBench bench = client.CreateProxy<IBench>();
        return Task.FromResult<Func<string, Task<long>>>(payload =>
        {
            // As many calls as a tenth of a stream: the same item count per measurement step, in lockstep.
            for (int i = 0; i < ItemsPerStream / 10; i++)
            {
                if (bench.Echo(payload).Length != payload.Length)
                {
                    throw new InvalidOperationException("echo mismatch");
                }
            }

            return Task.FromResult((long)(ItemsPerStream / 10));
        });
    }

    private static Task<Func<string, Task<long>>> ConnectGrpc(string address)
    {
        GrpcChannel channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions { HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true } });
        s_owned.Add(channel);
        var client = new Grpc.Echo.EchoClient(channel);
        return Task.FromResult<Func<string, Task<long>>>(async payload =>
        {
            long count = 0;
            using global::Grpc.Core.AsyncServerStreamingCall<Grpc.EchoMessage> call = client.Items(new Grpc.ItemsRequest { Text = payload, Count = ItemsPerStream });
            await foreach (Grpc.EchoMessage item in ReadAll(call.ResponseStream).ConfigureAwait(false))
            {
                count += item.Text.Length == payload.Length ? 1 : throw new InvalidOperationException("grpc item mismatch");
            }

            return count;
        });
    }

    private static async Task<Func<string, Task<long>>> ConnectJsonRpc(string address)
    {
        var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync(IPAddress.Loopback, int.Parse(address, CultureInfo.InvariantCulture));
        NetworkStream stream = tcp.GetStream();
        var rpc = new JsonRpc(new LengthHeaderMessageHandler(stream, stream, new MessagePackFormatter()));
        IJsonEcho echo = rpc.Attach<IJsonEcho>();
        rpc.StartListening();
        s_owned.Add(rpc);
        s_owned.Add(tcp);
        return async payload =>
        {
            long count = 0;
            await foreach (string item in echo.ItemsAsync(payload, ItemsPerStream, CancellationToken.None).ConfigureAwait(false))
            {
                count += item.Length == payload.Length ? 1 : throw new InvalidOperationException("json-rpc item mismatch");
            }

            return count;
        };
    }

    /// <summary>Reads 200 items at 5 ms each from a stream of endless 1 KiB items, then says how far the producer got ahead.</summary>
    private static async Task<long> LeadAsync(IAsyncEnumerable<string> items)
    {
        long start = Produced.Count;
        long read = 0;
        await using IAsyncEnumerator<string> reader = items.GetAsyncEnumerator();
        while (read < 200 && await reader.MoveNextAsync())
        {
            read++;
            await Task.Delay(5);
        }

        return Produced.Count - start - read;
    }

    private static async Task<long> TypedLeadAsync(RpcChannelKind channel)
    {
        using var server = new RpcServer(new RpcServerOptions { Endpoint = "tcp://127.0.0.1:0", Kind = RpcServerKind.Concurrent });
        server.AddService<IBench>(new Bench());
        server.Start();
        using var client = new RpcClient(new RpcClientOptions { Endpoint = server.BoundEndpoint!, Channel = channel });
        return await LeadAsync(client.CreateProxy<IBench>().Items(new string('x', 1024), int.MaxValue, CancellationToken.None));
    }

    private static async Task<long> GrpcLeadAsync()
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddGrpc();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http2));
        await using WebApplication app = builder.Build();
        app.MapGrpcService<Servers.GrpcEcho>();
        await app.StartAsync();
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        using GrpcChannel channel = GrpcChannel.ForAddress(address);
        using global::Grpc.Core.AsyncServerStreamingCall<Grpc.EchoMessage> call =
            new Grpc.Echo.EchoClient(channel).Items(new Grpc.ItemsRequest { Text = new string('x', 1024), Count = int.MaxValue });
        long lead = await LeadAsync(Texts(ReadAll(call.ResponseStream)));
        await app.StopAsync();
        return lead;

        static async IAsyncEnumerable<string> Texts(IAsyncEnumerable<Grpc.EchoMessage> messages)
        {
            await foreach (Grpc.EchoMessage message in messages)
            {
                yield return message.Text;
            }
        }
    }

    private static async Task<long> JsonRpcLeadAsync()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        Task<TcpClient> accepted = listener.AcceptTcpClientAsync();
        using var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
        using TcpClient serverSide = await accepted;
        NetworkStream serverStream = serverSide.GetStream();
        using var server = new JsonRpc(new LengthHeaderMessageHandler(serverStream, serverStream, new MessagePackFormatter()), new JsonEcho());
        server.StartListening();
        NetworkStream clientStream = tcp.GetStream();
        using var client = new JsonRpc(new LengthHeaderMessageHandler(clientStream, clientStream, new MessagePackFormatter()));
        IJsonEcho echo = client.Attach<IJsonEcho>();
        client.StartListening();
        long lead = await LeadAsync(echo.ItemsAsync(new string('x', 1024), int.MaxValue, CancellationToken.None));
        listener.Stop();
        return lead;
    }

    private static async IAsyncEnumerable<T> ReadAll<T>(global::Grpc.Core.IAsyncStreamReader<T> reader)
    {
        while (await reader.MoveNext(CancellationToken.None).ConfigureAwait(false))
        {
            yield return reader.Current;
        }
    }
}
