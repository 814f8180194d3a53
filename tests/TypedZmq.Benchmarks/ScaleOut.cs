using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace TypedZmq.Benchmarks;

/// <summary>
/// The scale-out measurements (<c>--scale-out</c>; docs/benchmarks.md "Scaling out"): one multiplexed client with 200
/// calls in flight against 1, 2 and 4 server processes whose calls wait 20 ms, ten at a time; then three such servers
/// and one ten times slower, with each load-balancing rule and with a bound on calls in flight per server.
/// </summary>
internal static class ScaleOut
{
    /// <summary>How many calls each work server runs at once (its <see cref="RpcServerOptions.MaxConcurrentCalls"/>).</summary>
    public const int ServerConcurrency = 10;

    private const int InFlight = 200;
    private const int FastMilliseconds = 20;
    private const int SlowMilliseconds = 200;

    public static async Task RunAsync(int rounds, TimeSpan duration, StringBuilder report)
    {
        var servers = new List<Process>();
        try
        {
            var fast = new List<string>();
            for (int i = 0; i < 4; i++)
            {
                (Process server, string address) = await ServerProcesses.StartAsync(Servers.TypedWorkPrefix + FastMilliseconds);
                servers.Add(server);
                fast.Add(address);
            }

            (Process slowServer, string slow) = await ServerProcesses.StartAsync(Servers.TypedWorkPrefix + SlowMilliseconds);
            servers.Add(slowServer);

            string[] mixed = [fast[0], fast[1], fast[2], slow];
            (string Name, string[] Endpoints, RpcLoadBalancing Rule, int? Bound)[] setups =
            [
                ("1 server", [fast[0]], RpcLoadBalancing.LeastInFlight, null),
                ("2 servers", [fast[0], fast[1]], RpcLoadBalancing.LeastInFlight, null),
                ("4 servers", [.. fast], RpcLoadBalancing.LeastInFlight, null),
                ("3 fast + 1 slow, round robin", mixed, RpcLoadBalancing.RoundRobin, null),
                ("3 fast + 1 slow, least in flight (default)", mixed, RpcLoadBalancing.LeastInFlight, null),
                ($"3 fast + 1 slow, least in flight, at most {ServerConcurrency} in flight per server", mixed, RpcLoadBalancing.LeastInFlight, ServerConcurrency),
            ];
            var results = setups.ToDictionary(s => s.Name, _ => new List<(double CallsPerSecond, double P50, double P99)>());
            for (int round = 0; round < rounds; round++)
            {
                for (int i = 0; i < setups.Length; i++)
                {
                    var setup = setups[(i + round) % setups.Length];
                    results[setup.Name].Add(await MeasureAsync(setup.Endpoints, setup.Rule, setup.Bound, duration));
                }

                Console.Error.WriteLine($"scale-out: round {round + 1}/{rounds} done");
            }

            report.AppendLine("### Scaling out");
            report.AppendLine();
            report.AppendLine(CultureInfo.InvariantCulture,
                $"One multiplexed client, {InFlight} calls in flight; server processes whose calls wait {FastMilliseconds} ms (the slow one " +
                $"{SlowMilliseconds} ms), {ServerConcurrency} at a time. Medians over {rounds} rounds of {duration.TotalSeconds:0.##} s.");
            report.AppendLine();
            report.AppendLine("| servers | calls/s | against 1 server | ideal | p50 latency | p99 latency |");
            report.AppendLine("|---|---:|---:|---:|---:|---:|");
            double one = ServerProcesses.Median(results[setups[0].Name].Select(r => r.CallsPerSecond));
            foreach (var setup in setups)
            {
                List<(double CallsPerSecond, double P50, double P99)> r = results[setup.Name];
                double callsPerSecond = ServerProcesses.Median(r.Select(x => x.CallsPerSecond));
                double ideal = setup.Endpoints.Sum(e => 1000.0 / (e == slow ? SlowMilliseconds : FastMilliseconds) * ServerConcurrency);
                report.AppendLine(CultureInfo.InvariantCulture,
                    $"| {setup.Name} | {callsPerSecond:N0} | {callsPerSecond / one:0.00}x | {ideal:N0} | {ServerProcesses.Median(r.Select(x => x.P50)):N0} ms | {ServerProcesses.Median(r.Select(x => x.P99)):N0} ms |");
            }

            report.AppendLine();
            report.AppendLine(CultureInfo.InvariantCulture,
                $"Ideal: what the servers can serve at most ({ServerConcurrency} calls at a time each, divided by their wait).");
            report.AppendLine();
        }
        finally
        {
            foreach (Process server in servers)
            {
                ServerProcesses.Stop(server);
            }
        }
    }

    private static async Task<(double CallsPerSecond, double P50, double P99)> MeasureAsync(string[] endpoints, RpcLoadBalancing rule, int? bound, TimeSpan duration)
    {
        using var client = new RpcClient(new RpcClientOptions
        {
            Endpoint = string.Join(',', endpoints),
            Channel = RpcChannelKind.Multiplexed,
            LoadBalancing = rule,
            MaxCallsInFlightPerServer = bound,
            Timeout = TimeSpan.FromSeconds(30),
        });
        IBench bench = client.CreateProxy<IBench>();

        // Every server connected and warm, and the queues filled, before anything is counted.
        LatencyHistogram[] latencies = Enumerable.Range(0, InFlight).Select(_ => new LatencyHistogram()).ToArray();
        await RunAsync(bench, TimeSpan.FromSeconds(1), latencies);
        foreach (LatencyHistogram histogram in latencies)
        {
            histogram.Clear();
        }

        var watch = Stopwatch.StartNew();
        long calls = await RunAsync(bench, duration, latencies);
        double seconds = watch.Elapsed.TotalSeconds;
        var all = new LatencyHistogram();
        foreach (LatencyHistogram histogram in latencies)
        {
            all.Add(histogram);
        }

        return (calls / seconds, all.Percentile(0.50) / 1000, all.Percentile(0.99) / 1000); // in ms
    }

    private static async Task<long> RunAsync(IBench bench, TimeSpan duration, LatencyHistogram[] latencies)
    {
        long end = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        long[] counts = new long[InFlight];
        await Task.WhenAll(Enumerable.Range(0, InFlight).Select(worker => Task.Run(async () =>
        {
            while (Stopwatch.GetTimestamp() < end)
            {
                long start = Stopwatch.GetTimestamp();
                string reply = await bench.EchoAsync("x").ConfigureAwait(false);
                if (reply != "x")
                {
                    throw new InvalidOperationException("echo mismatch");
                }

                latencies[worker].Record(Stopwatch.GetTimestamp() - start);
                counts[worker]++;
            }
        })));
        return counts.Sum();
    }
}
