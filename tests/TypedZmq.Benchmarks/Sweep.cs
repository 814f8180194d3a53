using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace TypedZmq.Benchmarks;

/// <summary>
/// How cost grows with work: calls in flight 1, 10, 100 and 1000 from one client, and 1, 4 and 16 client processes
/// (each with <see cref="InFlightPerProcess"/> calls in flight), for raw NetMQ, TypedZmq's multiplexed channel,
/// StreamJsonRpc and gRPC. Reports calls/s and p99 latency as a table, and draws both as an SVG.
/// </summary>
internal static class Sweep
{
    public const int InFlightPerProcess = 10;
    private static readonly int[] InFlightSteps = [1, 10, 100, 1000];
    private static readonly int[] ProcessSteps = [1, 4, 16];

    private static readonly (string Name, string Color, Func<Scenario> Create)[] Systems =
    [
        ("raw NetMQ DEALER/ROUTER", "#7f7f7f", () => new RawDealerRouter()),
        ("TypedZmq multiplexed", "#1f77b4", () => new TypedMultiplexed()),
        ("StreamJsonRpc (MessagePack, TCP)", "#2ca02c", () => new JsonRpcScenario(concurrent: true)),
        ("gRPC (Grpc.Net.Client, Kestrel h2c)", "#ff7f0e", () => new GrpcScenario(concurrent: true)),
    ];

    /// <summary>Runs both sweeps with a 10 B payload, appends the table to <paramref name="report"/> and writes the plot to <paramref name="svgPath"/>.</summary>
    public static async Task RunAsync(int rounds, TimeSpan duration, StringBuilder report, string svgPath)
    {
        const string payload = "xxxxxxxxxx";
        var inFlight = new (double CallsPerSecond, double P99)[Systems.Length, InFlightSteps.Length];
        var processes = new (double CallsPerSecond, double P99)[Systems.Length, ProcessSteps.Length];
        var servers = new List<Process>();
        var scenarios = new Scenario[Systems.Length];
        var addresses = new string[Systems.Length];
        try
        {
            for (int s = 0; s < Systems.Length; s++)
            {
                scenarios[s] = Systems[s].Create();
                (Process server, addresses[s]) = await ServerProcesses.StartAsync(scenarios[s].Server);
                servers.Add(server);
                await scenarios[s].ConnectAsync(addresses[s], payload);
                await scenarios[s].RunAsync(TimeSpan.FromSeconds(1)); // warm up: JIT, connections
                scenarios[s].TakeHistogram();
            }

            // One client process, more and more calls in flight; the systems take turns within each round.
            var runs = new List<(double, double)>[Systems.Length, InFlightSteps.Length];
            for (int round = 0; round < rounds; round++)
            {
                for (int step = 0; step < InFlightSteps.Length; step++)
                {
                    for (int i = 0; i < Systems.Length; i++)
                    {
                        int s = (i + round) % Systems.Length;
                        Scenario scenario = scenarios[s];
                        scenario.InFlight = InFlightSteps[step];
                        var watch = Stopwatch.StartNew();
                        long calls = await scenario.RunAsync(duration);
                        double p99 = scenario.TakeHistogram().Percentile(0.99);
                        (runs[s, step] ??= []).Add((calls / watch.Elapsed.TotalSeconds, p99));
                        Console.Error.WriteLine($"sweep: {Systems[s].Name}, {InFlightSteps[step]} in flight: {calls / watch.Elapsed.TotalSeconds:N0} calls/s, p99 {p99:N0} us");
                    }
                }
            }

            for (int s = 0; s < Systems.Length; s++)
            {
                for (int step = 0; step < InFlightSteps.Length; step++)
                {
                    inFlight[s, step] = (ServerProcesses.Median(runs[s, step].Select(r => r.Item1)), ServerProcesses.Median(runs[s, step].Select(r => r.Item2)));
                }

                await scenarios[s].DisposeAsync();
            }

            // More client processes, each with a few calls in flight, all measured over the same window.
            for (int step = 0; step < ProcessSteps.Length; step++)
            {
                for (int s = 0; s < Systems.Length; s++)
                {
                    processes[s, step] = await RunProcessesAsync(s, addresses[s], ProcessSteps[step], duration);
                    Console.Error.WriteLine($"sweep: {Systems[s].Name}, {ProcessSteps[step]} client processes: {processes[s, step].CallsPerSecond:N0} calls/s, p99 {processes[s, step].P99:N0} us");
                }
            }
        }
        finally
        {
            foreach (Process server in servers)
            {
                ServerProcesses.Stop(server);
            }
        }

        report.AppendLine("## How cost grows with work");
        report.AppendLine();
        report.AppendLine(string.Create(CultureInfo.InvariantCulture, $"10 B payload. Calls in flight from one client process ({rounds} rounds x {duration.TotalSeconds:0.##} s, medians), ") +
            string.Create(CultureInfo.InvariantCulture, $"then 1, 4 and 16 client processes with {InFlightPerProcess} calls in flight each (one window of {duration.TotalSeconds:0.##} s, ") +
            "every process measuring the same window; p99 over every call of every process). Each cell: calls/s, then p99 latency. " +
            $"Plot: [{Path.GetFileName(svgPath)}]({Path.GetFileName(svgPath)}).");
        report.AppendLine();
        report.Append("| system |");
        foreach (int n in InFlightSteps)
        {
            report.Append(CultureInfo.InvariantCulture, $" {n} in flight |");
        }

        foreach (int p in ProcessSteps)
        {
            report.Append(CultureInfo.InvariantCulture, $" {p} {(p == 1 ? "process" : "processes")} |");
        }

        report.AppendLine();
        report.AppendLine("|---|" + string.Concat(Enumerable.Repeat("---:|", InFlightSteps.Length + ProcessSteps.Length)));
        for (int s = 0; s < Systems.Length; s++)
        {
            report.Append(CultureInfo.InvariantCulture, $"| {Systems[s].Name} |");
            for (int step = 0; step < InFlightSteps.Length; step++)
            {
                report.Append(CultureInfo.InvariantCulture, $" {Cell(inFlight[s, step])} |");
            }

            for (int step = 0; step < ProcessSteps.Length; step++)
            {
                report.Append(CultureInfo.InvariantCulture, $" {Cell(processes[s, step])} |");
            }

            report.AppendLine();
        }

        report.AppendLine();
        File.WriteAllText(svgPath, Plot(inFlight, processes));
    }

    private static string Cell((double CallsPerSecond, double P99) figure) =>
        string.Create(CultureInfo.InvariantCulture, $"{figure.CallsPerSecond:N0}/s, {Latency(figure.P99)}");

    private static string Latency(double microseconds) => double.IsNaN(microseconds)
        ? "n/a"
        : microseconds >= 1000
            ? string.Create(CultureInfo.InvariantCulture, $"{microseconds / 1000:0.#} ms")
            : string.Create(CultureInfo.InvariantCulture, $"{microseconds:0} us");

    /// <summary>Starts <paramref name="count"/> client processes against one server, all measuring the same window.</summary>
    private static async Task<(double CallsPerSecond, double P99)> RunProcessesAsync(int system, string address, int count, TimeSpan duration)
    {
        // Time for every process to start and warm up before the common window opens.
        long startAt = DateTimeOffset.UtcNow.AddSeconds(3 + (0.5 * count)).ToUnixTimeMilliseconds();
        var clients = new List<Process>();
        try
        {
            for (int i = 0; i < count; i++)
            {
                clients.Add(ServerProcesses.StartChild(["--sweep-client", system.ToString(CultureInfo.InvariantCulture), address,
                    startAt.ToString(CultureInfo.InvariantCulture), duration.TotalSeconds.ToString(CultureInfo.InvariantCulture)]));
            }

            long calls = 0;
            var merged = new LatencyHistogram();
            foreach (Process client in clients)
            {
                string output = await client.StandardOutput.ReadToEndAsync().WaitAsync(TimeSpan.FromMinutes(2));
                string line = output.Split('\n').Single(l => l.StartsWith("SWEEP ", StringComparison.Ordinal));
                string[] parts = line.Trim().Split(' ');
                calls += long.Parse(parts[1], CultureInfo.InvariantCulture);
                merged.AddText(parts.Length > 2 ? parts[2] : "");
            }

            return (calls / duration.TotalSeconds, merged.Percentile(0.99));
        }
        finally
        {
            foreach (Process client in clients)
            {
                if (!client.WaitForExit(TimeSpan.FromSeconds(10)))
                {
                    client.Kill(entireProcessTree: true);
                }

                client.Dispose();
            }
        }
    }

    /// <summary>A client process of the process sweep: <c>--sweep-client SYSTEM ADDRESS START_AT_UNIX_MS SECONDS</c>.</summary>
    public static async Task<int> ClientAsync(string[] args)
    {
        int system = int.Parse(args[1], CultureInfo.InvariantCulture);
        long startAt = long.Parse(args[3], CultureInfo.InvariantCulture);
        var duration = TimeSpan.FromSeconds(double.Parse(args[4], CultureInfo.InvariantCulture));
        await using Scenario scenario = Systems[system].Create();
        scenario.InFlight = InFlightPerProcess;
        await scenario.ConnectAsync(args[2], "xxxxxxxxxx");
        TimeSpan warmUp = TimeSpan.FromMilliseconds(startAt - DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        if (warmUp > TimeSpan.Zero)
        {
            await scenario.RunAsync(warmUp);
        }

        scenario.TakeHistogram();
        long calls = await scenario.RunAsync(duration);
        Console.WriteLine($"SWEEP {calls} {scenario.TakeHistogram().ToText()}");
        return 0;
    }

    /// <summary>Four panels: calls/s and p99 against calls in flight, and against client processes.</summary>
    private static string Plot((double CallsPerSecond, double P99)[,] inFlight, (double CallsPerSecond, double P99)[,] processes)
    {
        const int panelWidth = 430;
        const int panelHeight = 270;
        var svg = new StringBuilder();
        svg.AppendLine(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{(2 * panelWidth) + 20}\" height=\"{(2 * panelHeight) + 70}\" font-family=\"sans-serif\" font-size=\"11\">");
        svg.AppendLine("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>");
        for (int s = 0; s < Systems.Length; s++)
        {
            double x = 20 + (s * 210);
            svg.AppendLine(CultureInfo.InvariantCulture, $"<rect x=\"{x}\" y=\"12\" width=\"14\" height=\"4\" fill=\"{Systems[s].Color}\"/>");
            svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{x + 20}\" y=\"18\">{Systems[s].Name}</text>");
        }

        string[] inFlightLabels = [.. InFlightSteps.Select(n => n.ToString(CultureInfo.InvariantCulture))];
        string[] processLabels = [.. ProcessSteps.Select(n => n.ToString(CultureInfo.InvariantCulture))];
        Panel(svg, 10, 40, panelWidth, panelHeight, "calls/s, one client process", "calls in flight", inFlightLabels, Series(inFlight, f => f.CallsPerSecond), logScale: false);
        Panel(svg, 10 + panelWidth, 40, panelWidth, panelHeight, "p99 latency, one client process", "calls in flight", inFlightLabels, Series(inFlight, f => f.P99), logScale: true);
        Panel(svg, 10, 40 + panelHeight, panelWidth, panelHeight, $"calls/s, {InFlightPerProcess} in flight per process", "client processes", processLabels, Series(processes, f => f.CallsPerSecond), logScale: false);
        Panel(svg, 10 + panelWidth, 40 + panelHeight, panelWidth, panelHeight, $"p99 latency, {InFlightPerProcess} in flight per process", "client processes", processLabels, Series(processes, f => f.P99), logScale: true);
        svg.AppendLine("</svg>");
        return svg.ToString();
    }

    private static double[][] Series((double CallsPerSecond, double P99)[,] figures, Func<(double CallsPerSecond, double P99), double> pick) =>
        [.. Enumerable.Range(0, figures.GetLength(0)).Select(s => Enumerable.Range(0, figures.GetLength(1)).Select(step => pick(figures[s, step])).ToArray())];

    private static void Panel(StringBuilder svg, double left, double top, double width, double height, string title, string xTitle, string[] xLabels, double[][] series, bool logScale)
    {
        double plotLeft = left + 60;
        double plotTop = top + 22;
        double plotWidth = width - 80;
        double plotHeight = height - 70;
        double[] values = [.. series.SelectMany(v => v).Where(v => !double.IsNaN(v) && v > 0)];
        double max = values.Length == 0 ? 1 : values.Max();
        double min = values.Length == 0 ? 1 : values.Min();
        double low = logScale ? Math.Pow(10, Math.Floor(Math.Log10(min))) : 0;
        double high = logScale ? Math.Pow(10, Math.Ceiling(Math.Log10(max))) : NiceCeiling(max);
        double Y(double v) => logScale
            ? plotTop + plotHeight - ((Math.Log10(v) - Math.Log10(low)) / (Math.Log10(high) - Math.Log10(low)) * plotHeight)
            : plotTop + plotHeight - (v / high * plotHeight);
        double X(int i) => plotLeft + (xLabels.Length == 1 ? plotWidth / 2 : i * plotWidth / (xLabels.Length - 1));

        svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{left + (width / 2)}\" y=\"{top + 12}\" text-anchor=\"middle\" font-weight=\"bold\">{title}</text>");
        IEnumerable<double> ticks = logScale
            ? Enumerable.Range(0, (int)Math.Round(Math.Log10(high / low)) + 1).Select(k => low * Math.Pow(10, k))
            : Enumerable.Range(0, 5).Select(k => high * k / 4);
        foreach (double tick in ticks)
        {
            double y = Y(tick);
            string label = logScale ? Latency(tick) : string.Create(CultureInfo.InvariantCulture, $"{tick / 1000:0}k");
            svg.AppendLine(CultureInfo.InvariantCulture, $"<line x1=\"{plotLeft:0.#}\" x2=\"{plotLeft + plotWidth:0.#}\" y1=\"{y:0.#}\" y2=\"{y:0.#}\" stroke=\"#ddd\"/>");
            svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{plotLeft - 6:0.#}\" y=\"{y + 4:0.#}\" text-anchor=\"end\">{label}</text>");
        }

        for (int i = 0; i < xLabels.Length; i++)
        {
            svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{X(i):0.#}\" y=\"{plotTop + plotHeight + 16:0.#}\" text-anchor=\"middle\">{xLabels[i]}</text>");
        }

        svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{plotLeft + (plotWidth / 2):0.#}\" y=\"{plotTop + plotHeight + 32:0.#}\" text-anchor=\"middle\">{xTitle}</text>");
        svg.AppendLine(CultureInfo.InvariantCulture, $"<rect x=\"{plotLeft:0.#}\" y=\"{plotTop:0.#}\" width=\"{plotWidth:0.#}\" height=\"{plotHeight:0.#}\" fill=\"none\" stroke=\"#999\"/>");
        for (int s = 0; s < series.Length; s++)
        {
            var points = new List<string>();
            for (int i = 0; i < series[s].Length; i++)
            {
                double v = series[s][i];
                if (!double.IsNaN(v) && v > 0)
                {
                    points.Add(string.Create(CultureInfo.InvariantCulture, $"{X(i):0.#},{Y(v):0.#}"));
                    svg.AppendLine(CultureInfo.InvariantCulture, $"<circle cx=\"{X(i):0.#}\" cy=\"{Y(v):0.#}\" r=\"3\" fill=\"{Systems[s].Color}\"/>");
                }
            }

            svg.AppendLine(CultureInfo.InvariantCulture, $"<polyline points=\"{string.Join(' ', points)}\" fill=\"none\" stroke=\"{Systems[s].Color}\" stroke-width=\"2\"/>");
        }
    }

    private static double NiceCeiling(double value)
    {
        double magnitude = Math.Pow(10, Math.Floor(Math.Log10(value)));
        foreach (double step in new[] { 1, 2, 2.5, 5, 10 })
        {
            if (step * magnitude >= value)
            {
                return step * magnitude;
            }
        }

        return 10 * magnitude;
    }
}
