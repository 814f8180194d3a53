using System.Net;
using System.Net.Sockets;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NetMQ;
using NetMQ.Sockets;
using StreamJsonRpc;

namespace TypedZmq.Benchmarks;

/// <summary>
/// The server side of each scenario, run in a child process (<c>--serve KIND</c>): it prints <c>READY address</c>,
/// serves on 127.0.0.1 until its standard input closes, then exits.
/// </summary>
internal static class Servers
{
    public const string RawRep = "raw-rep";
    public const string RawRouter = "raw-router";
    public const string TypedReply = "typed-reply";
    public const string TypedConcurrent = "typed-concurrent";
    public const string TypedReplyIntercepted = "typed-reply-intercepted";
    public const string TypedConcurrentIntercepted = "typed-concurrent-intercepted";
    public const string TypedReplySecure = "typed-reply-secure";
    public const string TypedConcurrentSecure = "typed-concurrent-secure";
    public const string TypedReplyObserved = "typed-reply-observed";
    public const string TypedConcurrentObserved = "typed-concurrent-observed";
    public const string TypedConcurrentHeartbeats = "typed-concurrent-heartbeats";
    public const string Grpc = "grpc";
    public const string JsonRpc = "jsonrpc";

    /// <summary>Followed by milliseconds: a concurrent server whose calls each wait that long (see <see cref="ScaleOut"/>).</summary>
    public const string TypedWorkPrefix = "typed-work-";

    public static async Task<int> ServeAsync(string kind)
    {
        using var stop = new CancellationTokenSource();
        Task stdinClosed = Task.Run(() =>
        {
            while (Console.In.ReadLine() is not null)
            {
            }

            stop.Cancel();
        });

        switch (kind)
        {
            case RawRep:
            case RawRouter:
            {
                using NetMQSocket socket = kind == RawRep ? new ResponseSocket() : new RouterSocket();
                socket.Options.ReceiveHighWatermark = 100_000;
                socket.Options.SendHighWatermark = 100_000;
                int port = socket.BindRandomPort("tcp://127.0.0.1");
                Ready($"tcp://127.0.0.1:{port}");
                EchoLoop(socket, stop.Token);
                break;
            }

            case TypedReply:
            case TypedConcurrent:
            case TypedReplyIntercepted:
            case TypedConcurrentIntercepted:
            case TypedReplySecure:
            case TypedConcurrentSecure:
            case TypedReplyObserved:
            case TypedConcurrentObserved:
            case TypedConcurrentHeartbeats:
            {
                using IDisposable? listening = kind is TypedReplyObserved or TypedConcurrentObserved ? Listening.Start() : null;
                var options = new RpcServerOptions
                {
                    Endpoint = "tcp://127.0.0.1:0",
                    Kind = kind is TypedReply or TypedReplyIntercepted or TypedReplySecure or TypedReplyObserved ? RpcServerKind.Reply : RpcServerKind.Concurrent,
                    Security = kind is TypedReplySecure or TypedConcurrentSecure ? TypedVariants.ServerSecurity() : null,
                    HeartbeatInterval = kind is TypedConcurrentHeartbeats ? TimeSpan.FromSeconds(1) : TimeSpan.Zero,
                };
                if (kind is TypedReplyIntercepted or TypedConcurrentIntercepted)
                {
                    options.Interceptors.Add(new PassThroughServerInterceptor());
                }

                using var server = new RpcServer(options);
                server.AddService<IBench>(new Bench());
                server.Start();
                Ready(server.BoundEndpoint!);
                await server.RunAsync(stop.Token);
                break;
            }

            case Grpc:
            {
                WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
                builder.Logging.ClearProviders();
                builder.Services.AddGrpc();
                builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http2));
                WebApplication app = builder.Build();
                app.MapGrpcService<GrpcEcho>();
                await app.StartAsync();
                string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
                Ready(address);
                await stdinClosed;
                await app.StopAsync();
                break;
            }

            case JsonRpc:
            {
                var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                Ready(((IPEndPoint)listener.LocalEndpoint).Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
                try
                {
                    while (!stop.IsCancellationRequested)
                    {
                        TcpClient client = await listener.AcceptTcpClientAsync(stop.Token);
                        client.NoDelay = true;
                        NetworkStream stream = client.GetStream();
                        var rpc = new StreamJsonRpc.JsonRpc(new LengthHeaderMessageHandler(stream, stream, new MessagePackFormatter()), new JsonEcho());
                        rpc.StartListening();
                    }
                }
                catch (OperationCanceledException)
                {
                }

                listener.Stop();
                break;
            }

            case not null when kind.StartsWith(TypedWorkPrefix, StringComparison.Ordinal):
            {
                // A server whose every call waits (not computes) for the given time, ten at a time: the shape of a
                // service bound by a database or another service, which more server processes scale.
                int milliseconds = int.Parse(kind[TypedWorkPrefix.Length..], System.Globalization.CultureInfo.InvariantCulture);
                using var server = new RpcServer(new RpcServerOptions
                {
                    Endpoint = "tcp://127.0.0.1:0",
                    Kind = RpcServerKind.Concurrent,
                    MaxConcurrentCalls = ScaleOut.ServerConcurrency,
                });
                server.AddService<IBench>(new WaitingBench(TimeSpan.FromMilliseconds(milliseconds)));
                server.Start();
                Ready(server.BoundEndpoint!);
                await server.RunAsync(stop.Token);
                break;
            }

            default:
                Console.Error.WriteLine("unknown server kind " + kind);
                return 2;
        }

        return 0;
    }

    private static void Ready(string address)
    {
        Console.WriteLine("READY " + address);
        Console.Out.Flush();
    }

    /// <summary>Echoes every frame back as it arrives: works for REP (body only) and ROUTER (identity first).</summary>
    private static void EchoLoop(NetMQSocket socket, CancellationToken stop)
    {
        var msg = default(Msg);
        msg.InitEmpty();
        while (!stop.IsCancellationRequested)
        {
            if (!socket.TryReceive(ref msg, TimeSpan.FromMilliseconds(100)))
            {
                continue;
            }

            bool more = msg.HasMore;
            socket.Send(ref msg, more);
        }

        msg.Close();
    }

    internal sealed class GrpcEcho : TypedZmq.Benchmarks.Grpc.Echo.EchoBase
    {
        public override Task<TypedZmq.Benchmarks.Grpc.EchoMessage> Echo(TypedZmq.Benchmarks.Grpc.EchoMessage request, ServerCallContext context) =>
            Task.FromResult(request);

        public override async Task Items(TypedZmq.Benchmarks.Grpc.ItemsRequest request, IServerStreamWriter<TypedZmq.Benchmarks.Grpc.EchoMessage> responseStream, ServerCallContext context)
        {
            var message = new TypedZmq.Benchmarks.Grpc.EchoMessage { Text = request.Text };
            await foreach (string _ in Produced.Items(request.Text, request.Count, context.CancellationToken))
            {
                await responseStream.WriteAsync(message);
            }
        }
    }
}
