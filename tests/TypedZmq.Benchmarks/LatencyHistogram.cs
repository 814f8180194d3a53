using System.Diagnostics;

namespace TypedZmq.Benchmarks;

/// <summary>
/// Every call's latency, counted in buckets 1% wide (log-linear, from 0.1 us to about 10 minutes), so percentiles cover
/// every call of a run, not a sample, and recording allocates nothing. One per worker: not thread-safe.
/// </summary>
internal sealed class LatencyHistogram
{
    private const double Smallest = 0.1; // us
    private const int Buckets = 2_600; // 0.1 us * 1.01^2600: about 10 minutes
    private static readonly double LogGrowth = Math.Log(1.01);

    private readonly long[] _counts = new long[Buckets];

    public long Count { get; private set; }

    public void Record(long elapsedTicks)
    {
        double microseconds = elapsedTicks * 1e6 / Stopwatch.Frequency;
        int bucket = microseconds <= Smallest ? 0 : Math.Min(Buckets - 1, (int)(Math.Log(microseconds / Smallest) / LogGrowth));
        _counts[bucket]++;
        Count++;
    }

    public void Add(LatencyHistogram other)
    {
        for (int i = 0; i < Buckets; i++)
        {
            _counts[i] += other._counts[i];
        }

        Count += other.Count;
    }

    /// <summary>The counts as text (bucket:count for each bucket that has calls), to pass between processes.</summary>
    public string ToText() =>
        string.Join(',', Enumerable.Range(0, Buckets).Where(i => _counts[i] > 0).Select(i => $"{i}:{_counts[i]}"));

    /// <summary>Adds the counts of a histogram written by <see cref="ToText"/>.</summary>
    public void AddText(string text)
    {
        foreach (string entry in text.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] parts = entry.Split(':');
            long count = long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
            _counts[int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture)] += count;
            Count += count;
        }
    }

    public void Clear()
    {
        Array.Clear(_counts);
        Count = 0;
    }

    /// <summary>The latency below which <paramref name="fraction"/> of the calls fell, in microseconds (the bucket's middle); NaN if none.</summary>
    public double Percentile(double fraction)
    {
        if (Count == 0)
        {
            return double.NaN;
        }

        long rank = Math.Max(1, (long)Math.Ceiling(fraction * Count));
        long seen = 0;
        for (int i = 0; i < Buckets; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
            {
                return Smallest * Math.Exp((i + 0.5) * LogGrowth);
            }
        }

        return double.NaN;
    }
}
