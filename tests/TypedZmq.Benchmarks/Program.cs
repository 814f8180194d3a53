using System.Diagnostics;
using System.Globalization;
using System.Text;
using TypedZmq.Benchmarks;

// dotnet run -c Release --project tests/TypedZmq.Benchmarks [-- --rounds 5 --seconds 1 --sizes 10,1024,65536 --out F.md]
// Writes its report to F.md (default benchmark-results.md) and the sweep's plot to F-sweep.svg, and says where.
// -- --only "a|b": only the scenarios whose names contain a or b (and the raw baselines); no sweep.
// -- --sweep: only the calls-in-flight and client-process sweep of Sweep.cs.
// -- --breakdown: only where one round trip's time goes (Breakdown.cs).
// -- --streams: only the stream rows (StreamBench.cs).
// -- --scale-out: the server-count and load-balancing measurements of ScaleOut.cs.
// Interleaves the scenarios in rounds (the machine is noisy: absolute times drift, ratios within a round hold) and
// reports, per payload size, the median over rounds of each scenario's ratio to the raw NetMQ baseline of its kind.
if (args.Length == 2 && args[0] == "--serve")
{
    return await Servers.ServeAsync(args[1]);
}

if (args.Length == 5 && args[0] == "--sweep-client")
{
    return await Sweep.ClientAsync(args);
}

int rounds = IntOption("--rounds", 5);
double seconds = double.Parse(Option("--seconds", "1"), CultureInfo.InvariantCulture);
int[] sizes = Option("--sizes", "10,1024,65536").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
string output = Path.GetFullPath(Option("--out", "benchmark-results.md"));
string plot = Path.ChangeExtension(output, null) + "-sweep.svg";
string? only = OptionOrNull("--only");
var duration = TimeSpan.FromSeconds(seconds);

var report = new StringBuilder();
report.AppendLine(CultureInfo.InvariantCulture, $"Run {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC on {Environment.ProcessorCount} cores, .NET {Environment.Version}, " +
    $"{rounds} rounds x {seconds:0.##} s per scenario, servers in child processes, all traffic on 127.0.0.1.");
report.AppendLine();

if (args.Contains("--scale-out"))
{
    // dotnet run -c Release --project tests/TypedZmq.Benchmarks -- --scale-out [--rounds 3 --seconds 3]
    await ScaleOut.RunAsync(rounds, duration, report);
    return Finish();
}

if (args.Contains("--streams"))
{
    await StreamBench.RunAsync(Math.Min(rounds, 3), duration, report);
    return Finish();
}

if (args.Contains("--breakdown"))
{
    await Breakdown.RunAsync(rounds, duration, report);
    return Finish();
}

if (args.Contains("--sweep"))
{
    await Sweep.RunAsync(rounds, duration, report, plot);
    return Finish();
}

foreach (int size in sizes)
{
    string payload = new('x', size);
    Scenario[] scenarios =
    [
        new RawReqRep(), new TypedRequest(), new GrpcScenario(concurrent: false), new JsonRpcScenario(concurrent: false),
        new RawDealerRouter(), new TypedMultiplexed(), new GrpcScenario(concurrent: true), new JsonRpcScenario(concurrent: true),
        new RawDealerRouter(typedFrameShape: true), new TypedRequest(TypedVariant.Intercepted), new TypedMultiplexed(TypedVariant.Intercepted),
        new TypedRequest(TypedVariant.Secure), new TypedMultiplexed(TypedVariant.Secure),
        new TypedRequest(TypedVariant.Observed), new TypedMultiplexed(TypedVariant.Observed),
        new TypedMultiplexed(TypedVariant.HeartbeatsOff), new TypedMultiplexed(TypedVariant.HeartbeatsBothSides),
        new TypedRequest(TypedVariant.Bytes),
    ];
    var servers = new List<Process>();
    var serverOf = new Dictionary<Scenario, Process>();
    var results = scenarios.ToDictionary(s => s, _ => new List<(double CallsPerSecond, double BytesPerCall)>());
    var cpu = scenarios.ToDictionary(s => s, _ => new List<(double ClientUs, double ServerUs)>());
    var tails = scenarios.ToDictionary(s => s, _ => new List<(double P50, double P99, double P999)>());
    try
    {
        foreach (Scenario scenario in scenarios)
        {
            (Process server, string address) = await ServerProcesses.StartAsync(scenario.Server);
            servers.Add(server);
            serverOf[scenario] = server;
            await scenario.ConnectAsync(address, payload);
            await scenario.RunAsync(TimeSpan.FromSeconds(Math.Min(1, seconds))); // warm up: JIT, connections
        }

        for (int round = 0; round < rounds; round++)
        {
            // Rotate the order each round so no scenario always runs first or last.
            for (int i = 0; i < scenarios.Length; i++)
            {
                Scenario scenario = scenarios[(i + round) % scenarios.Length];
                if (!Selected(scenario.Name) && scenario != scenarios[0] && scenario != scenarios[4])
                {
                    results[scenario].Add((double.NaN, double.NaN));
                    cpu[scenario].Add((double.NaN, double.NaN));
                    tails[scenario].Add((double.NaN, double.NaN, double.NaN));
                    continue;
                }

                GC.Collect();
                GC.WaitForPendingFinalizers();
                Process self = Process.GetCurrentProcess();
                Process server = serverOf[scenario];
                server.Refresh();
                TimeSpan clientCpuBefore = self.TotalProcessorTime;
                TimeSpan serverCpuBefore = server.TotalProcessorTime;
                long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
                var watch = Stopwatch.StartNew();
                long calls = await scenario.RunAsync(duration);
                watch.Stop();
                long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
                self.Refresh();
                server.Refresh();
                results[scenario].Add((calls / watch.Elapsed.TotalSeconds, (double)allocated / calls));
                cpu[scenario].Add((
                    (self.TotalProcessorTime - clientCpuBefore).TotalMicroseconds / calls,
                    (server.TotalProcessorTime - serverCpuBefore).TotalMicroseconds / calls));
                tails[scenario].Add(scenario.TakePercentiles());
            }

            Console.Error.WriteLine($"size {size}: round {round + 1}/{rounds} done");
        }

        long callingThreadBytes = ((TypedRequest)scenarios[1]).CallingThreadBytesPerCall(1000);
        AppendTable(report, size, scenarios, results, cpu, tails, rounds, callingThreadBytes);
    }
    finally
    {
        foreach (Scenario scenario in scenarios)
        {
            await scenario.DisposeAsync();
        }

        foreach (Process server in servers)
        {
            ServerProcesses.Stop(server);
        }
    }
}

if (only is null)
{
    await Breakdown.RunAsync(rounds, duration, report);
    await StreamBench.RunAsync(Math.Min(rounds, 3), duration, report);
    await Sweep.RunAsync(rounds, duration, report, plot);
}

return Finish();

int Finish()
{
    Console.WriteLine(report);
    File.WriteAllText(output, report.ToString());
    Console.WriteLine($"Results written to {output}" + (File.Exists(plot) && only is null ? $"; the sweep's plot to {plot}" : "") + ".");
    NetMQ.NetMQConfig.Cleanup(block: false);
    return 0;
}

static void AppendTable(
    StringBuilder report,
    int size,
    Scenario[] scenarios,
    Dictionary<Scenario, List<(double CallsPerSecond, double BytesPerCall)>> results,
    Dictionary<Scenario, List<(double ClientUs, double ServerUs)>> cpu,
    Dictionary<Scenario, List<(double P50, double P99, double P999)>> tails,
    int rounds,
    long callingThreadBytes)
{
    Scenario lockstepBaseline = scenarios[0];
    Scenario concurrentBaseline = scenarios[4];
    Scenario grpcConcurrent = scenarios[6];
    report.AppendLine(CultureInfo.InvariantCulture, $"### {size:N0} B payload");
    report.AppendLine();
    report.AppendLine("| scenario | median | ratio to raw NetMQ (median, min-max over rounds) | latency p50 / p99 / p99.9 | allocated per call, client process | CPU per call: client / server process |");
    report.AppendLine("|---|---|---|---|---|---|");
    foreach (Scenario scenario in scenarios)
    {
        List<(double CallsPerSecond, double BytesPerCall)> runs = results[scenario];
        Scenario baseline = scenario.Concurrent ? concurrentBaseline : lockstepBaseline;
        // Lockstep: latency ratio (higher = slower). Concurrent: throughput ratio (higher = faster).
        double[] ratios = Enumerable.Range(0, rounds)
            .Select(r => scenario.Concurrent
                ? runs[r].CallsPerSecond / results[baseline][r].CallsPerSecond
                : results[baseline][r].CallsPerSecond / runs[r].CallsPerSecond)
            .ToArray();
        string median = scenario.Concurrent
            ? $"{ServerProcesses.Median(runs.Select(r => r.CallsPerSecond)):N0} calls/s"
            : $"{1e6 / ServerProcesses.Median(runs.Select(r => r.CallsPerSecond)):N1} us/call";
        string ratio = $"{ServerProcesses.Median(ratios):0.00}x {(scenario.Concurrent ? "calls/s" : "latency")} ({ratios.Min():0.00}-{ratios.Max():0.00})";
        string cpuText = $"{ServerProcesses.Median(cpu[scenario].Select(c => c.ClientUs)):0.0} / {ServerProcesses.Median(cpu[scenario].Select(c => c.ServerUs)):0.0} us";
        // Per round over every call of the round, then the median over rounds.
        (double p50, double p99, double p999) = (ServerProcesses.Median(tails[scenario].Select(t => t.P50)), ServerProcesses.Median(tails[scenario].Select(t => t.P99)), ServerProcesses.Median(tails[scenario].Select(t => t.P999)));
        string tail = double.IsNaN(p99) ? "n/a" : $"{p50:N0} / {p99:N0} / {p999:N0} us";
        report.AppendLine(CultureInfo.InvariantCulture, $"| {scenario.Name} | {median} | {ratio} | {tail} | {ServerProcesses.Median(runs.Select(r => r.BytesPerCall)):N0} B | {cpuText} |");
    }

    Scenario typedMultiplexed = scenarios[5];
    double[] vsGrpc = Enumerable.Range(0, rounds)
        .Select(r => results[typedMultiplexed][r].CallsPerSecond / results[grpcConcurrent][r].CallsPerSecond)
        .ToArray();
    report.AppendLine();
    report.AppendLine(CultureInfo.InvariantCulture, $"TypedZmq multiplexed vs gRPC, 100 concurrent: {ServerProcesses.Median(vsGrpc):0.00}x calls/s ({vsGrpc.Min():0.00}-{vsGrpc.Max():0.00}). " +
        $"TypedZmq request channel, allocated on the calling thread per call (result string included): {callingThreadBytes:N0} B.");
    Scenario typedRequest = scenarios[1];
    Scenario requestIntercepted = scenarios[9];
    Scenario multiplexedIntercepted = scenarios[10];
    double[] requestCost = Enumerable.Range(0, rounds)
        .Select(r => results[typedRequest][r].CallsPerSecond / results[requestIntercepted][r].CallsPerSecond)
        .ToArray();
    double[] multiplexedCost = Enumerable.Range(0, rounds)
        .Select(r => results[multiplexedIntercepted][r].CallsPerSecond / results[typedMultiplexed][r].CallsPerSecond)
        .ToArray();
    report.AppendLine();
    report.AppendLine(CultureInfo.InvariantCulture, $"One trivial interceptor on each side, against none: request channel {ServerProcesses.Median(requestCost):0.00}x latency " +
        $"({requestCost.Min():0.00}-{requestCost.Max():0.00}), multiplexed {ServerProcesses.Median(multiplexedCost):0.00}x calls/s ({multiplexedCost.Min():0.00}-{multiplexedCost.Max():0.00}).");
    double[] secureRequestCost = Enumerable.Range(0, rounds)
        .Select(r => results[typedRequest][r].CallsPerSecond / results[scenarios[11]][r].CallsPerSecond)
        .ToArray();
    double[] secureMultiplexedCost = Enumerable.Range(0, rounds)
        .Select(r => results[scenarios[12]][r].CallsPerSecond / results[typedMultiplexed][r].CallsPerSecond)
        .ToArray();
    double[] observedRequestCost = Enumerable.Range(0, rounds)
        .Select(r => results[typedRequest][r].CallsPerSecond / results[scenarios[13]][r].CallsPerSecond)
        .ToArray();
    double[] observedMultiplexedCost = Enumerable.Range(0, rounds)
        .Select(r => results[scenarios[14]][r].CallsPerSecond / results[typedMultiplexed][r].CallsPerSecond)
        .ToArray();
    report.AppendLine(CultureInfo.InvariantCulture, $"Traced and measured (every span sampled, every instrument listened to) against no listener: request channel " +
        $"{ServerProcesses.Median(observedRequestCost):0.00}x latency ({observedRequestCost.Min():0.00}-{observedRequestCost.Max():0.00}), multiplexed " +
        $"{ServerProcesses.Median(observedMultiplexedCost):0.00}x calls/s ({observedMultiplexedCost.Min():0.00}-{observedMultiplexedCost.Max():0.00}).");
    double[] heartbeatsOn = Enumerable.Range(0, rounds)
        .Select(r => results[typedMultiplexed][r].CallsPerSecond / results[scenarios[15]][r].CallsPerSecond)
        .ToArray();
    double[] heartbeatsBoth = Enumerable.Range(0, rounds)
        .Select(r => results[scenarios[16]][r].CallsPerSecond / results[scenarios[15]][r].CallsPerSecond)
        .ToArray();
    report.AppendLine(CultureInfo.InvariantCulture, $"Heartbeats against none, multiplexed: client only (the default) {ServerProcesses.Median(heartbeatsOn):0.00}x calls/s " +
        $"({heartbeatsOn.Min():0.00}-{heartbeatsOn.Max():0.00}), both sides {ServerProcesses.Median(heartbeatsBoth):0.00}x ({heartbeatsBoth.Min():0.00}-{heartbeatsBoth.Max():0.00}).");
    report.AppendLine(CultureInfo.InvariantCulture, $"Secure mode against plain: request channel {ServerProcesses.Median(secureRequestCost):0.00}x latency " +
        $"({secureRequestCost.Min():0.00}-{secureRequestCost.Max():0.00}), multiplexed {ServerProcesses.Median(secureMultiplexedCost):0.00}x calls/s " +
        $"({secureMultiplexedCost.Min():0.00}-{secureMultiplexedCost.Max():0.00}).");
    report.AppendLine();
}

string Option(string name, string fallback) => OptionOrNull(name) ?? fallback;

int IntOption(string name, int fallback) => int.Parse(Option(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

// --only "a|b": scenarios whose name contains a or b; "=name" selects exactly that scenario.
bool Selected(string name) => only is null || only.Split('|').Any(o => o.StartsWith('=')
    ? name.Equals(o[1..], StringComparison.OrdinalIgnoreCase)
    : name.Contains(o, StringComparison.OrdinalIgnoreCase));

string? OptionOrNull(string name)
{
    int index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
}
