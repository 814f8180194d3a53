using System.Diagnostics;

namespace TypedZmq.Benchmarks;

/// <summary>The benchmark's servers: this program started again in serve mode (<c>--serve KIND</c>, see <see cref="Servers"/>).</summary>
internal static class ServerProcesses
{
    /// <summary>Starts a server of <paramref name="kind"/> and waits for its <c>READY address</c> line.</summary>
    public static async Task<(Process Server, string Address)> StartAsync(string kind)
    {
        Process server = StartChild(["--serve", kind]);
        string? line = await server.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
        if (line is null || !line.StartsWith("READY ", StringComparison.Ordinal))
        {
            server.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"the {kind} server did not start: {line}");
        }

        return (server, line["READY ".Length..]);
    }

    /// <summary>Starts this program again with <paramref name="arguments"/>, its standard input and output redirected.</summary>
    public static Process StartChild(IEnumerable<string> arguments)
    {
        string self = Environment.ProcessPath!;
        var start = new ProcessStartInfo(self) { RedirectStandardInput = true, RedirectStandardOutput = true };
        if (Path.GetFileNameWithoutExtension(self).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
        {
            start.ArgumentList.Add(typeof(Scenario).Assembly.Location);
        }

        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return Process.Start(start)!;
    }

    /// <summary>Closes the server's standard input (it exits), or kills it after 10 s.</summary>
    public static void Stop(Process server)
    {
        server.StandardInput.Close();
        if (!server.WaitForExit(TimeSpan.FromSeconds(10)))
        {
            server.Kill(entireProcessTree: true);
        }

        server.Dispose();
    }

    /// <summary>The median of the rounds' figures.</summary>
    public static double Median(IEnumerable<double> values)
    {
        double[] sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
