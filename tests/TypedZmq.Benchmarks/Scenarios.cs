using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Grpc.Net.Client;
using NetMQ;
using NetMQ.Sockets;
using StreamJsonRpc;

namespace TypedZmq.Benchmarks;

/// <summary>One client-side way of making the benchmarked call, against its server in a child process.</summary>
internal abstract class Scenario : IAsyncDisposable
{
    protected Scenario(string name, string server, bool concurrent)
    {
        Name = name;
        Server = server;
        Concurrent = concurrent;
    }

    public string Name { get; }

    /// <summary>The child-process server kind it talks to.</summary>
    public string Server { get; }

    /// <summary>Many calls in flight (compared with raw DEALER/ROUTER) or one at a time (compared with raw REQ/REP).</summary>
    public bool Concurrent { get; }

    /// <summary>How many calls a concurrent scenario keeps in flight (100 in the main tables; the sweep varies it).</summary>
    public int InFlight { get; set; } = 100;

    public abstract Task ConnectAsync(string address, string payload);

    /// <summary>Makes calls until <paramref name="duration"/> has passed; returns how many completed.</summary>
    public abstract Task<long> RunAsync(TimeSpan duration);

    public virtual ValueTask DisposeAsync() => ValueTask.CompletedTask;

    protected static void Check(bool condition, string what)
    {
        if (!condition)
        {
            throw new InvalidOperationException(what);
        }
    }

    // Latency of every call, per worker, allocated once, before anything is measured.
    private LatencyHistogram[]? _histograms;
    private readonly LatencyHistogram _merged = new();

    /// <summary>p50, p99 and p99.9 latency of every call of the last run, in microseconds (NaN before one); then starts afresh.</summary>
    public (double P50, double P99, double P999) TakePercentiles()
    {
        LatencyHistogram merged = TakeHistogram();
        return (merged.Percentile(0.50), merged.Percentile(0.99), merged.Percentile(0.999));
    }

    /// <summary>Every call of the last run in one histogram (valid until the next call); then starts afresh.</summary>
    public LatencyHistogram TakeHistogram()
    {
        _merged.Clear();
        foreach (LatencyHistogram histogram in _histograms ?? [])
        {
            _merged.Add(histogram);
            histogram.Clear();
        }

        return _merged;
    }

    /// <summary>Runs <see cref="InFlight"/> loops of <paramref name="call"/> until the time is up, timing each call.</summary>
    protected async Task<long> RunConcurrent(Func<Task> call, TimeSpan duration)
    {
        LatencyHistogram[] histograms = Histograms(InFlight);
        long total = 0;
        var watch = Stopwatch.StartNew();
        var workers = new Task[InFlight];
        for (int i = 0; i < InFlight; i++)
        {
            LatencyHistogram histogram = histograms[i];
            workers[i] = Task.Run(async () =>
            {
                long count = 0;
                while (watch.Elapsed < duration)
                {
                    long start = Stopwatch.GetTimestamp();
                    await call().ConfigureAwait(false);
                    histogram.Record(Stopwatch.GetTimestamp() - start);
                    count++;
                }

                Interlocked.Add(ref total, count);
            });
        }

        await Task.WhenAll(workers).ConfigureAwait(false);
        return total;
    }

    /// <summary>One call at a time on this thread until the time is up, timing each call.</summary>
    protected long RunLockstep(Action call, TimeSpan duration)
    {
        LatencyHistogram histogram = Histograms(1)[0];
        long count = 0;
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < duration)
        {
            long start = Stopwatch.GetTimestamp();
            call();
            histogram.Record(Stopwatch.GetTimestamp() - start);
            count++;
        }

        return count;
    }

    /// <summary>The histogram of a scenario that times its calls itself, on one thread.</summary>
    protected LatencyHistogram SingleHistogram() => Histograms(1)[0];

    private LatencyHistogram[] Histograms(int workers)
    {
        if (_histograms is null || _histograms.Length != workers)
        {
            _histograms = Enumerable.Range(0, workers).Select(_ => new LatencyHistogram()).ToArray();
        }

        return _histograms;
    }
}

internal sealed class RawReqRep() : Scenario("raw NetMQ REQ/REP", Servers.RawRep, concurrent: false)
{
    private RequestSocket? _socket;
    private byte[] _payload = [];

    public override Task ConnectAsync(string address, string payload)
    {
        _payload = Encoding.UTF8.GetBytes(payload);
        _socket = new RequestSocket();
        _socket.Options.Linger = TimeSpan.Zero;
        _socket.Connect(address);
        return Task.CompletedTask;
    }

    public override Task<long> RunAsync(TimeSpan duration) => Task.FromResult(RunLockstep(() =>
    {
        RequestSocket socket = _socket!;
        socket.SendFrame(_payload);
        byte[] reply = socket.ReceiveFrameBytes();
        Check(reply.Length == _payload.Length, "raw echo mismatch");
    }, duration));

    public override ValueTask DisposeAsync()
    {
        _socket?.Dispose();
        return ValueTask.CompletedTask;
    }
}

internal sealed class TypedRequest(TypedVariant variant = TypedVariant.Plain) : Scenario(
    "TypedZmq request channel" + TypedVariants.Suffix(variant),
    variant switch
    {
        TypedVariant.Intercepted => Servers.TypedReplyIntercepted,
        TypedVariant.Secure => Servers.TypedReplySecure,
        TypedVariant.Observed => Servers.TypedReplyObserved,
        _ => Servers.TypedReply,
    },
    concurrent: false)
{
    private RpcClient? _client;
    private IBench? _bench;
    private string _payload = "";

    public override Task ConnectAsync(string address, string payload)
    {
        _payload = payload;
        var options = new RpcClientOptions { Endpoint = address, Security = TypedVariants.ClientSecurity(variant) };
        if (variant == TypedVariant.Intercepted)
        {
            options.Interceptors.Add(new PassThroughClientInterceptor());
        }

        _client = new RpcClient(options);
        _bench = _client.CreateProxy<IBench>();
        return Task.CompletedTask;
    }

    public override Task<long> RunAsync(TimeSpan duration)
    {
        using IDisposable? listening = variant == TypedVariant.Observed ? Listening.Start() : null;
        if (variant == TypedVariant.Bytes)
        {
            byte[] bytes = _bytes ??= System.Text.Encoding.UTF8.GetBytes(_payload);
            return Task.FromResult(RunLockstep(() => Check(_bench!.EchoBytes(bytes).Length == bytes.Length, "typed echo mismatch"), duration));
        }

        return Task.FromResult(RunLockstep(() => Check(_bench!.Echo(_payload).Length == _payload.Length, "typed echo mismatch"), duration));
    }

    private byte[]? _bytes;

    /// <summary>Bytes allocated on the calling thread by one call (the result string included).</summary>
    public long CallingThreadBytesPerCall(int calls)
    {
        _bench!.Echo(_payload);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < calls; i++)
        {
            _bench.Echo(_payload);
        }

        return (GC.GetAllocatedBytesForCurrentThread() - before) / calls;
    }

    public override ValueTask DisposeAsync()
    {
        _client?.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// Raw DEALER/ROUTER echo, optionally with TypedZmq's frame shape (an empty delimiter frame before the body, which
/// REQ/REP compatibility needs): that variant shows what the extra frame alone costs in NetMQ.
/// </summary>
internal sealed class RawDealerRouter(bool typedFrameShape = false) : Scenario(
    typedFrameShape ? "raw NetMQ DEALER/ROUTER, 100 in flight, TypedZmq's frame shape" : "raw NetMQ DEALER/ROUTER, 100 in flight",
    Servers.RawRouter,
    concurrent: true)
{
    private DealerSocket? _socket;
    private byte[] _payload = [];

    public override Task ConnectAsync(string address, string payload)
    {
        _payload = Encoding.UTF8.GetBytes(payload);
        _socket = new DealerSocket();
        _socket.Options.Linger = TimeSpan.Zero;
        _socket.Options.ReceiveHighWatermark = 100_000;
        _socket.Options.SendHighWatermark = 100_000;
        _socket.Connect(address);
        return Task.CompletedTask;
    }

    public override Task<long> RunAsync(TimeSpan duration)
    {
        // One thread owns the socket and keeps 100 requests outstanding: the best raw NetMQ can do. One connection to an
        // echo loop answers in order, so each reply's latency is measured from the oldest send.
        DealerSocket socket = _socket!;
        LatencyHistogram histogram = SingleHistogram();
        long[] sentAt = new long[InFlight];
        long sends = 0;
        long received = 0;
        var watch = Stopwatch.StartNew();
        for (int i = 0; i < InFlight; i++)
        {
            sentAt[sends++ % InFlight] = Stopwatch.GetTimestamp();
            Send(socket);
        }

        int outstanding = InFlight;
        while (outstanding > 0)
        {
            if (typedFrameShape)
            {
                socket.SkipFrame(); // the delimiter
            }

            byte[] reply = socket.ReceiveFrameBytes();
            histogram.Record(Stopwatch.GetTimestamp() - sentAt[received % InFlight]);
            Check(reply.Length == _payload.Length, "raw echo mismatch");
            received++;
            if (watch.Elapsed < duration)
            {
                sentAt[sends++ % InFlight] = Stopwatch.GetTimestamp();
                Send(socket);
            }
            else
            {
                outstanding--;
            }
        }

        return Task.FromResult(received);
    }

    private void Send(DealerSocket socket)
    {
        if (typedFrameShape)
        {
            socket.SendMoreFrameEmpty();
        }

        socket.SendFrame(_payload);
    }

    public override ValueTask DisposeAsync()
    {
        _socket?.Dispose();
        return ValueTask.CompletedTask;
    }
}

internal sealed class TypedMultiplexed(TypedVariant variant = TypedVariant.Plain) : Scenario(
    "TypedZmq multiplexed, 100 in flight" + TypedVariants.Suffix(variant),
    variant switch
    {
        TypedVariant.Intercepted => Servers.TypedConcurrentIntercepted,
        TypedVariant.Secure => Servers.TypedConcurrentSecure,
        TypedVariant.Observed => Servers.TypedConcurrentObserved,
        TypedVariant.HeartbeatsBothSides => Servers.TypedConcurrentHeartbeats,
        _ => Servers.TypedConcurrent,
    },
    concurrent: true)
{
    private RpcClient? _client;
    private IBench? _bench;
    private string _payload = "";

    public override Task ConnectAsync(string address, string payload)
    {
        _payload = payload;
        var options = new RpcClientOptions
        {
            Endpoint = address,
            Channel = RpcChannelKind.Multiplexed,
            Security = TypedVariants.ClientSecurity(variant),
            HeartbeatInterval = variant == TypedVariant.HeartbeatsOff ? TimeSpan.Zero : TimeSpan.FromSeconds(1),
        };
        if (variant == TypedVariant.Intercepted)
        {
            options.Interceptors.Add(new PassThroughClientInterceptor());
        }

        _client = new RpcClient(options);
        _bench = _client.CreateProxy<IBench>();
        return Task.CompletedTask;
    }

    public override async Task<long> RunAsync(TimeSpan duration)
    {
        using IDisposable? listening = variant == TypedVariant.Observed ? Listening.Start() : null;
        return await RunConcurrent(async () =>
            Check((await _bench!.EchoAsync(_payload).ConfigureAwait(false)).Length == _payload.Length, "typed echo mismatch"), duration);
    }

    public override ValueTask DisposeAsync()
    {
        _client?.Dispose();
        return ValueTask.CompletedTask;
    }
}

internal sealed class GrpcScenario(bool concurrent) : Scenario(
    concurrent ? "gRPC (Grpc.Net.Client, Kestrel h2c), 100 concurrent" : "gRPC (Grpc.Net.Client, Kestrel h2c)", Servers.Grpc, concurrent)
{
    private GrpcChannel? _channel;
    private Grpc.Echo.EchoClient? _client;
    private Grpc.EchoMessage _message = new();

    public override Task ConnectAsync(string address, string payload)
    {
        _message = new Grpc.EchoMessage { Text = payload };
        _channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true },
            MaxReceiveMessageSize = 16 * 1024 * 1024,
        });
        _client = new Grpc.Echo.EchoClient(_channel);
        return Task.CompletedTask;
    }

    public override Task<long> RunAsync(TimeSpan duration) => Concurrent
        ? RunConcurrent(async () => Check((await _client!.EchoAsync(_message).ConfigureAwait(false)).Text.Length == _message.Text.Length, "grpc echo mismatch"), duration)
        : Task.FromResult(RunLockstep(() => Check(_client!.Echo(_message).Text.Length == _message.Text.Length, "grpc echo mismatch"), duration));

    public override ValueTask DisposeAsync()
    {
        _channel?.Dispose();
        return ValueTask.CompletedTask;
    }
}

internal sealed class JsonRpcScenario(bool concurrent) : Scenario(
    concurrent ? "StreamJsonRpc (MessagePack, TCP), 100 concurrent" : "StreamJsonRpc (MessagePack, TCP)", Servers.JsonRpc, concurrent)
{
    private TcpClient? _tcp;
    private JsonRpc? _rpc;
    private IJsonEcho? _echo;
    private string _payload = "";

    public override async Task ConnectAsync(string address, string payload)
    {
        _payload = payload;
        _tcp = new TcpClient { NoDelay = true };
        await _tcp.ConnectAsync(System.Net.IPAddress.Loopback, int.Parse(address, System.Globalization.CultureInfo.InvariantCulture));
        NetworkStream stream = _tcp.GetStream();
        _rpc = new JsonRpc(new LengthHeaderMessageHandler(stream, stream, new MessagePackFormatter()));
        _echo = _rpc.Attach<IJsonEcho>();
        _rpc.StartListening();
    }

    public override Task<long> RunAsync(TimeSpan duration) => Concurrent
        ? RunConcurrent(async () => Check((await _echo!.EchoAsync(_payload).ConfigureAwait(false)).Length == _payload.Length, "json-rpc echo mismatch"), duration)
        : Task.FromResult(RunLockstep(() => Check(_echo!.EchoAsync(_payload).GetAwaiter().GetResult().Length == _payload.Length, "json-rpc echo mismatch"), duration));

    public override ValueTask DisposeAsync()
    {
        _rpc?.Dispose();
        _tcp?.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>The cheapest interceptor there is: it only calls next. Measures what the pipeline itself costs.</summary>
internal sealed class PassThroughClientInterceptor : RpcClientInterceptor
{
    public override ValueTask InterceptAsync(RpcClientContext context, RpcClientContinuation next) => next(context);
}

/// <summary>The server's counterpart of <see cref="PassThroughClientInterceptor"/>.</summary>
internal sealed class PassThroughServerInterceptor : RpcServerInterceptor
{
    public override ValueTask InterceptAsync(RpcCallContext context, RpcServerContinuation next) => next(context);
}

/// <summary>The TypedZmq rows: as they come, with one trivial interceptor each side, or in secure mode.</summary>
internal enum TypedVariant
{
    Plain,
    Intercepted,
    Secure,
    Observed,
    HeartbeatsOff,
    HeartbeatsBothSides,
    Bytes,
}

/// <summary>
/// What an application with OpenTelemetry does to TypedZmq: a listener that samples every span and one that takes every
/// measurement of TypedZmq's instruments (both doing nothing with them, so the row shows TypedZmq's own cost).
/// </summary>
internal static class Listening
{
    public static IDisposable Start()
    {
        var spans = new System.Diagnostics.ActivityListener
        {
            ShouldListenTo = source => source.Name == RpcDiagnostics.ActivitySourceName,
            Sample = (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> _) => System.Diagnostics.ActivitySamplingResult.AllDataAndRecorded,
        };
        System.Diagnostics.ActivitySource.AddActivityListener(spans);
        var measurements = new System.Diagnostics.Metrics.MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == RpcDiagnostics.MeterName)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        measurements.SetMeasurementEventCallback<double>(static (_, _, _, _) => { });
        measurements.SetMeasurementEventCallback<long>(static (_, _, _, _) => { });
        measurements.Start();
        return new Both(spans, measurements);
    }

    private sealed class Both(IDisposable first, IDisposable second) : IDisposable
    {
        public void Dispose()
        {
            first.Dispose();
            second.Dispose();
        }
    }
}

internal static class TypedVariants
{
    // Keys for the benchmark only (client and server are separate processes, so they are fixed here).
    public static readonly RpcKeyPair ServerKey = RpcKeyPair.FromSecretKey("x3A%W17#iuw(0qg/0[>L=$XAEPAQ6MpgSOL>=?!b");
    public static readonly RpcKeyPair ClientKey = RpcKeyPair.FromSecretKey("RM>(9-BR7XjyK8e3Ysd=phAw^}uJ{I}Kt)owsz9e");

    public static string Suffix(TypedVariant variant) => variant switch
    {
        TypedVariant.Intercepted => ", one trivial interceptor each side",
        TypedVariant.Secure => ", secure mode",
        TypedVariant.Observed => ", traced and measured",
        TypedVariant.HeartbeatsOff => ", heartbeats off",
        TypedVariant.HeartbeatsBothSides => ", heartbeats on both sides",
        TypedVariant.Bytes => ", byte[] payload",
        _ => "",
    };

    public static RpcClientSecurity? ClientSecurity(TypedVariant variant) =>
        variant == TypedVariant.Secure ? new RpcClientSecurity(ClientKey, ServerKey.PublicKey) : null;

    public static RpcServerSecurity ServerSecurity() => new RpcServerSecurity(ServerKey).AllowClient(ClientKey.PublicKey, "benchmark");
}
