using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using NetMQ;
using NetMQ.Sockets;

namespace TypedZmq.Benchmarks;

/// <summary>
/// Where one round trip's time goes, one call at a time, 10 B, everything in this process (so no process is left idle
/// waiting for a scheduler on the other side): the cost of one thread hand-off, the kernel's TCP loopback on its own,
/// NetMQ REQ/REP over tcp and inproc, and TypedZmq's two channels over both. NetMQ gives every socket an I/O thread that
/// does the socket's network work, so each direction of a NetMQ round trip crosses threads twice (caller to I/O thread,
/// I/O thread to the peer's socket); a blocking TCP socket (as StreamJsonRpc and Kestrel use, through async I/O) crosses
/// none on the way out.
/// </summary>
internal static class Breakdown
{
    public static async Task RunAsync(int rounds, TimeSpan duration, StringBuilder report)
    {
        (string Name, Func<TimeSpan, Task<double>> Measure)[] steps =
        [
            ("one thread hand-off and back (two SemaphoreSlim signals)", HandOffAsync),
            ("one thread woken from sleep and back (two AutoResetEvent signals, no spinning)", WakeAsync),
            ("TCP loopback, blocking sockets on both sides (no NetMQ)", TcpAsync),
            ("NetMQ REQ/REP over tcp://127.0.0.1", d => NetMqAsync("tcp://127.0.0.1:0", d)),
            ("NetMQ REQ/REP over inproc://", d => NetMqAsync($"inproc://breakdown-{Guid.NewGuid():N}", d)),
            ("TypedZmq request channel over tcp (reply server)", d => TypedAsync("tcp://127.0.0.1:0", RpcChannelKind.Request, d)),
            ("TypedZmq request channel over inproc (reply server)", d => TypedAsync($"inproc://breakdown-{Guid.NewGuid():N}", RpcChannelKind.Request, d)),
            ("TypedZmq multiplexed, one call at a time, over tcp (concurrent server)", d => TypedAsync("tcp://127.0.0.1:0", RpcChannelKind.Multiplexed, d)),
            ("TypedZmq multiplexed, one call at a time, over inproc (concurrent server)", d => TypedAsync($"inproc://breakdown-{Guid.NewGuid():N}", RpcChannelKind.Multiplexed, d)),
        ];

        var results = steps.Select(_ => new List<double>()).ToArray();
        foreach ((string _, Func<TimeSpan, Task<double>> measure) in steps)
        {
            await measure(TimeSpan.FromMilliseconds(300)); // warm up
        }

        for (int round = 0; round < rounds; round++)
        {
            for (int i = 0; i < steps.Length; i++)
            {
                results[i].Add(await steps[i].Measure(duration));
            }
        }

        report.AppendLine("## Where a round trip's time goes");
        report.AppendLine();
        report.AppendLine(string.Create(CultureInfo.InvariantCulture, $"One call at a time, 10 B, client and server in one process ({rounds} rounds x {duration.TotalSeconds:0.##} s; the time per round trip, median over rounds)."));
        report.AppendLine();
        report.AppendLine("| round trip | time |");
        report.AppendLine("|---|---:|");
        for (int i = 0; i < steps.Length; i++)
        {
            report.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| {steps[i].Name} | {ServerProcesses.Median(results[i]):0.0} us |"));
        }

        report.AppendLine();
    }

    private static async Task<double> HandOffAsync(TimeSpan duration)
    {
        using var ping = new SemaphoreSlim(0);
        using var pong = new SemaphoreSlim(0);
        using var stop = new CancellationTokenSource();
        var other = new Thread(() =>
        {
            try
            {
                while (true)
                {
                    ping.Wait(stop.Token);
                    pong.Release();
                }
            }
            catch (OperationCanceledException)
            {
            }
        }) { IsBackground = true };
        other.Start();
        double result = Lockstep(() =>
        {
            ping.Release();
            pong.Wait();
        }, duration);
        await stop.CancelAsync();
        other.Join();
        return result;
    }

    private static Task<double> WakeAsync(TimeSpan duration)
    {
        using var ping = new AutoResetEvent(false);
        using var pong = new AutoResetEvent(false);
        bool stop = false;
        var other = new Thread(() =>
        {
            while (true)
            {
                ping.WaitOne();
                if (Volatile.Read(ref stop))
                {
                    return;
                }

                pong.Set();
            }
        }) { IsBackground = true };
        other.Start();
        double result = Lockstep(() =>
        {
            ping.Set();
            pong.WaitOne();
        }, duration);
        Volatile.Write(ref stop, true);
        ping.Set();
        other.Join();
        return Task.FromResult(result);
    }

    private static Task<double> TcpAsync(TimeSpan duration)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        client.Connect(listener.LocalEndPoint!);
        using Socket server = listener.Accept();
        server.NoDelay = true;
        var echo = new Thread(() =>
        {
            byte[] buffer = new byte[10];
            try
            {
                while (Fill(server, buffer))
                {
                    server.Send(buffer);
                }
            }
            catch (SocketException)
            {
            }
        }) { IsBackground = true };
        echo.Start();
        byte[] message = new byte[10];
        double result = Lockstep(() =>
        {
            client.Send(message);
            Fill(client, message);
        }, duration);
        client.Shutdown(SocketShutdown.Both);
        echo.Join();
        return Task.FromResult(result);

        static bool Fill(Socket socket, byte[] buffer)
        {
            for (int read = 0; read < buffer.Length;)
            {
                int n = socket.Receive(buffer, read, buffer.Length - read, SocketFlags.None);
                if (n == 0)
                {
                    return false;
                }

                read += n;
            }

            return true;
        }
    }

    private static Task<double> NetMqAsync(string endpoint, TimeSpan duration)
    {
        using var rep = new ResponseSocket();
        rep.Options.Linger = TimeSpan.Zero;
        string bound = endpoint.EndsWith(":0", StringComparison.Ordinal) ? $"tcp://127.0.0.1:{rep.BindRandomPort("tcp://127.0.0.1")}" : endpoint;
        if (bound == endpoint)
        {
            rep.Bind(endpoint);
        }

        using var stop = new CancellationTokenSource();
        var echo = new Thread(() =>
        {
            var msg = default(Msg);
            msg.InitEmpty();
            while (!stop.IsCancellationRequested)
            {
                if (rep.TryReceive(ref msg, TimeSpan.FromMilliseconds(50)))
                {
                    rep.Send(ref msg, more: false);
                }
            }

            msg.Close();
        }) { IsBackground = true };
        echo.Start();
        using var req = new RequestSocket();
        req.Options.Linger = TimeSpan.Zero;
        req.Connect(bound);
        byte[] message = new byte[10];
        double result = Lockstep(() =>
        {
            req.SendFrame(message);
            req.ReceiveFrameBytes();
        }, duration);
        stop.Cancel();
        echo.Join();
        return Task.FromResult(result);
    }

    private static Task<double> TypedAsync(string endpoint, RpcChannelKind channel, TimeSpan duration)
    {
        using var server = new RpcServer(new RpcServerOptions
        {
            Endpoint = endpoint,
            Kind = channel == RpcChannelKind.Request ? RpcServerKind.Reply : RpcServerKind.Concurrent,
        });
        server.AddService<IBench>(new Bench());
        server.Start();
        using var client = new RpcClient(new RpcClientOptions { Endpoint = server.BoundEndpoint!, Channel = channel });
        IBench bench = client.CreateProxy<IBench>();
        const string text = "xxxxxxxxxx";
        return Task.FromResult(Lockstep(() => bench.Echo(text), duration));
    }

    /// <summary>Microseconds per call of <paramref name="call"/>, made one after another on this thread.</summary>
    private static double Lockstep(Action call, TimeSpan duration)
    {
        long count = 0;
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < duration)
        {
            call();
            count++;
        }

        return watch.Elapsed.TotalMicroseconds / count;
    }
}
