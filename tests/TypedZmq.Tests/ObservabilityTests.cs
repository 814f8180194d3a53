using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using TypedZmq.Diagnostics;
using TypedZmq.FaultServer;
using TypedZmq.Tests.Contracts;
using TypedZmq.Tests.Infrastructure;
using static TypedZmq.Tests.Infrastructure.WireFormat;

namespace TypedZmq.Tests;

/// <summary>
/// Tracing, metrics and logs (docs/observability.md): spans that cross from client to server, the instruments and
/// their attributes, the log events by id. Not run in parallel with other tests: listeners are process-wide, and
/// "no listener, no span" needs a process where nobody listens.
/// </summary>
[Collection(nameof(ObservabilityTests))]
[CollectionDefinition(nameof(ObservabilityTests), DisableParallelization = true)]
public sealed class ObservabilityTests
{
    [Theory]
    [InlineData(RpcServerKind.Reply, RpcChannelKind.Request)]
    [InlineData(RpcServerKind.Concurrent, RpcChannelKind.Multiplexed)]
    public async Task The_server_span_is_a_child_of_the_client_span_with_the_documented_attributes(RpcServerKind kind, RpcChannelKind channel)
    {
        using var spans = new SpanRecorder();
        using TestServer server = TestServer.Start(Transport.Tcp, kind);
        int port = Port(server.Endpoint);
        using RpcClient client = new(new RpcClientOptions { Endpoint = server.Endpoint, Channel = channel });
        IShapes shapes = client.CreateProxy<IShapes>();

        Assert.Equal(9, await shapes.AddAsync(4, 5));
        Assert.Equal(RpcStatus.RemoteError, Assert.Throws<RpcException>(() => shapes.Fail("boom")).Status);

        Activity clientAdd = spans.Single(ActivityKind.Client, "TypedZmq.Tests.Contracts.IShapes/AddAsync", port);
        Activity serverAdd = spans.Single(ActivityKind.Server, "TypedZmq.Tests.Contracts.IShapes/AddAsync", port);
        Assert.Equal(clientAdd.TraceId, serverAdd.TraceId);
        Assert.Equal(clientAdd.SpanId, serverAdd.ParentSpanId);
        foreach (Activity span in new[] { clientAdd, serverAdd })
        {
            Assert.Equal("typedzmq", span.GetTagItem("rpc.system.name"));
            Assert.Equal("TypedZmq.Tests.Contracts.IShapes/AddAsync", span.GetTagItem("rpc.method"));
            Assert.Equal("OK", span.GetTagItem("rpc.response.status_code"));
            Assert.Equal(port, span.GetTagItem("server.port"));
            Assert.Equal(ActivityStatusCode.Unset, span.Status);
        }

        Assert.Equal("127.0.0.1", clientAdd.GetTagItem("server.address"));
        Assert.Equal(1, clientAdd.GetTagItem("typedzmq.attempts"));

        Activity clientFail = spans.Single(ActivityKind.Client, "TypedZmq.Tests.Contracts.IShapes/Fail", port);
        Activity serverFail = spans.Single(ActivityKind.Server, "TypedZmq.Tests.Contracts.IShapes/Fail", port);
        Assert.Equal(clientFail.SpanId, serverFail.ParentSpanId);
        Assert.Equal(ActivityStatusCode.Error, clientFail.Status);
        Assert.Equal("REMOTE_ERROR", clientFail.GetTagItem("error.type"));
        Assert.Equal("REMOTE_ERROR", serverFail.GetTagItem("rpc.response.status_code"));
        Assert.Equal("System.InvalidOperationException", serverFail.GetTagItem("error.type"));
    }

    [Fact]
    public async Task A_retried_call_is_one_client_span_over_its_attempts_each_a_server_span()
    {
        using var spans = new SpanRecorder();
        var options = new RpcServerOptions { Endpoint = "tcp://127.0.0.1:0", Kind = RpcServerKind.Concurrent, Interceptors = { new UnavailableOnFirstAttempt() } };
        using var server = new RpcServer(options);
        server.AddService<ICounter>(new Counter());
        server.Start();
        int port = Port(server.BoundEndpoint!);
        using var client = new RpcClient(new RpcClientOptions
        {
            Endpoint = server.BoundEndpoint!,
            Channel = RpcChannelKind.Multiplexed,
            RetryBackoff = TimeSpan.FromMilliseconds(10),
        });

        Assert.Equal(0, await client.CreateProxy<ICounter>().GetAsync(0));

        Activity call = spans.Single(ActivityKind.Client, "TypedZmq.FaultServer.ICounter/GetAsync", port);
        Assert.Equal(2, call.GetTagItem("typedzmq.attempts"));
        Activity[] attempts = spans.All(ActivityKind.Server, "TypedZmq.FaultServer.ICounter/GetAsync", port);
        Assert.Equal(2, attempts.Length);
        Assert.All(attempts, attempt => Assert.Equal(call.SpanId, attempt.ParentSpanId));
        Assert.Equal(["UNAVAILABLE", "OK"], attempts.OrderBy(a => (int)a.GetTagItem("typedzmq.attempt")!).Select(a => a.GetTagItem("rpc.response.status_code")));
    }

    [Fact]
    public async Task With_no_listener_no_span_is_made_and_no_trace_context_is_sent()
    {
        Assert.False(Telemetry.Source.HasListeners(), "a listener from another test is still registered");
        using TestServer server = TestServer.Start(Transport.Inproc, RpcServerKind.Concurrent);
        IShapes shapes = server.Proxy(channel: RpcChannelKind.Multiplexed);

        CallSeen seen = await shapes.DescribeCallAsync(RpcDiagnostics.TraceParentKey);

        Assert.Null(seen.Metadata);
        Assert.Null(Activity.Current);
    }

    [Fact]
    public async Task Durations_and_the_operator_counters_are_recorded_with_their_attributes()
    {
        using var serverDuration = new MetricCollector<double>(Telemetry.Meter, "rpc.server.call.duration");
        using var clientDuration = new MetricCollector<double>(Telemetry.Meter, "rpc.client.call.duration");
        using var refused = new MetricCollector<long>(Telemetry.Meter, "typedzmq.server.requests_refused");
        using var replaced = new MetricCollector<long>(Telemetry.Meter, "typedzmq.client.socket_replacements");
        using var queued = new MetricCollector<long>(Telemetry.Meter, "typedzmq.server.queued_requests");
        using var inFlight = new MetricCollector<long>(Telemetry.Meter, "typedzmq.server.calls_in_flight");
        using TestServer server = TestServer.Start(Transport.Tcp, new RpcServerOptions { Endpoint = "x", Kind = RpcServerKind.Concurrent, MaxConcurrentCalls = 1 });
        int port = Port(server.Endpoint);
        IShapes shapes = server.Proxy(channel: RpcChannelKind.Multiplexed);

        Assert.Equal(3, shapes.Add(1, 2));
        Assert.Equal(RpcStatus.RemoteError, (await Assert.ThrowsAsync<RpcException>(() => shapes.FailAsync("x"))).Status);
        CollectedMeasurement<double> add = Assert.Single(serverDuration.GetMeasurementSnapshot(), m => Method(m.Tags) == "TypedZmq.Tests.Contracts.IShapes/Add" && Equals(m.Tags["server.port"], port));
        Assert.Equal("typedzmq", add.Tags["rpc.system.name"]);
        Assert.Equal("OK", add.Tags["rpc.response.status_code"]);
        Assert.InRange(add.Value, 0, 10);
        CollectedMeasurement<double> fail = Assert.Single(clientDuration.GetMeasurementSnapshot(), m => Method(m.Tags) == "TypedZmq.Tests.Contracts.IShapes/FailAsync");
        Assert.Equal("REMOTE_ERROR", fail.Tags["error.type"]);

        // Two slow calls on a server that runs one at a time: one waits in the queue, then runs.
        Task<string>[] slow = [shapes.SlowAsync(300, CancellationToken.None), shapes.SlowAsync(300, CancellationToken.None)];
        await Task.WhenAll(slow);
        Assert.Equal([1, -1], queued.GetMeasurementSnapshot().Select(m => m.Value).Take(2));
        Assert.Equal(0, inFlight.GetMeasurementSnapshot().Where(m => Equals(m.Tags["server.port"], port)).Sum(m => m.Value));

        // A plain "Hello" is refused unrun, and counted by status.
        using (var peer = new RawPeer(server.Endpoint))
        {
            peer.Exchange("Hello"u8.ToArray());
        }

        Assert.Contains(refused.GetMeasurementSnapshot(), m => Equals(m.Tags["rpc.response.status_code"], "BAD_REQUEST"));

        // A request channel that times out replaces its socket.
        IShapes impatient = server.Proxy(timeout: TimeSpan.FromMilliseconds(100));
        Assert.Equal(RpcStatus.DeadlineExceeded, Assert.Throws<RpcException>(() => impatient.Slow(1000)).Status);
        Assert.True(replaced.GetMeasurementSnapshot().Sum(m => m.Value) >= 1);
    }

    [Fact]
    public void Log_events_fire_with_their_ids_and_a_flood_of_garbage_is_logged_a_bounded_number_of_times()
    {
        var logs = new FakeLogCollector();
        using var factory = LoggerFactory.Create(b => b.AddProvider(new FakeLoggerProvider(logs)).SetMinimumLevel(LogLevel.Debug));
        using (TestServer server = TestServer.Start(Transport.Inproc, new RpcServerOptions { Endpoint = "x", Kind = RpcServerKind.Concurrent, LoggerFactory = factory }))
        {
            using var client = new RpcClient(new RpcClientOptions { Endpoint = server.Endpoint, LoggerFactory = factory, Timeout = TimeSpan.FromMilliseconds(100) });
            IShapes shapes = client.CreateProxy<IShapes>();
            Assert.Equal(RpcStatus.RemoteError, Assert.Throws<RpcException>(() => shapes.Fail("boom")).Status);
            Assert.Equal(RpcStatus.DeadlineExceeded, Assert.Throws<RpcException>(() => shapes.Slow(1000)).Status);

            // 10,000 garbage messages, in batches that stay under ZeroMQ's queue limits, each answered.
            using var peer = new RawPeer(server.Endpoint);
            for (int batch = 0; batch < 20; batch++)
            {
                for (int i = 0; i < 500; i++)
                {
                    peer.Send("garbage"u8.ToArray());
                }

                for (int i = 0; i < 500; i++)
                {
                    Assert.NotNull(peer.TryReceive(TimeSpan.FromSeconds(10)));
                }
            }
        }

        IReadOnlyList<FakeLogRecord> records = logs.GetSnapshot();
        Assert.Contains(records, r => r.Id.Id == 1 && r.Id.Name == "ServerStarted");
        Assert.Contains(records, r => r.Id.Id == 2 && r.Id.Name == "ServerStopped");
        FakeLogRecord failed = Assert.Single(records, r => r.Id.Id == 3);
        Assert.Equal(LogLevel.Warning, failed.Level);
        Assert.Contains("Fail", failed.Message);
        Assert.Contains(records, r => r.Id.Id == 101 && r.Id.Name == "SocketReplaced");
        int refusals = records.Count(r => r.Id.Id == 4 && r.Id.Name == "RequestRefused");
        Assert.InRange(refusals, 1, 30); // one a second at most, however long the flood took
    }

    [Fact]
    public async Task Retries_and_failovers_are_logged_and_counted()
    {
        var logs = new FakeLogCollector();
        using var factory = LoggerFactory.Create(b => b.AddProvider(new FakeLoggerProvider(logs)));
        using var retries = new MetricCollector<long>(Telemetry.Meter, "typedzmq.client.retries");
        var options = new RpcServerOptions { Endpoint = "tcp://127.0.0.1:0", Kind = RpcServerKind.Concurrent, Interceptors = { new UnavailableOnFirstAttempt() } };
        using var server = new RpcServer(options);
        server.AddService<ICounter>(new Counter());
        server.Start();

        foreach (string endpoint in new[] { server.BoundEndpoint!, server.BoundEndpoint! + "," + server.BoundEndpoint! })
        {
            using var client = new RpcClient(new RpcClientOptions { Endpoint = endpoint, LoggerFactory = factory, RetryBackoff = TimeSpan.FromMilliseconds(10) });
            Assert.Equal(0, await client.CreateProxy<ICounter>().GetAsync(0));
        }

        IReadOnlyList<FakeLogRecord> records = logs.GetSnapshot();
        Assert.Contains(records, r => r.Id.Id == 102 && r.Id.Name == "Retrying");
        Assert.Contains(records, r => r.Id.Id == 103 && r.Id.Name == "FailingOver");
        Assert.True(retries.GetMeasurementSnapshot().Sum(m => m.Value) >= 2);
    }

    private static string? Method(IReadOnlyDictionary<string, object?> tags) => tags.TryGetValue("rpc.method", out object? method) ? method as string : null;

    private static int Port(string endpoint) => int.Parse(endpoint[(endpoint.LastIndexOf(':') + 1)..]);

    /// <summary>Refuses the first attempt of every call with Unavailable, so that clients retry.</summary>
    private sealed class UnavailableOnFirstAttempt : RpcServerInterceptor
    {
        public override ValueTask InterceptAsync(RpcCallContext context, RpcServerContinuation next) =>
            context.Attempt <= 1 ? throw new RpcException(RpcStatus.Unavailable, "try again") : next(context);
    }

    /// <summary>Every TypedZmq span that ends while it listens.</summary>
    private sealed class SpanRecorder : IDisposable
    {
        private readonly ConcurrentQueue<Activity> _spans = new();
        private readonly ActivityListener _listener;

        public SpanRecorder()
        {
            _listener = new ActivityListener
            {
                ShouldListenTo = source => source.Name == RpcDiagnostics.ActivitySourceName,
                Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
                ActivityStopped = _spans.Enqueue,
            };
            ActivitySource.AddActivityListener(_listener);
        }

        public Activity[] All(ActivityKind kind, string name, int port) =>
            _spans.Where(s => s.Kind == kind && s.DisplayName == name && Equals(s.GetTagItem("server.port"), port)).ToArray();

        public Activity Single(ActivityKind kind, string name, int port)
        {
            var watch = Stopwatch.StartNew();
            while (All(kind, name, port).Length == 0 && watch.Elapsed < TimeSpan.FromSeconds(10))
            {
                Thread.Sleep(10); // the server's span ends on its own thread, just after the reply left
            }

            return Assert.Single(All(kind, name, port));
        }

        public void Dispose() => _listener.Dispose();
    }
}
