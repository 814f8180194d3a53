using System;
using System.Diagnostics;

namespace TypedZmq.Client;

/// <summary>The time budget of one call, measured with a monotonic clock, plus its absolute form for the header.</summary>
internal readonly struct CallDeadline
{
    private readonly long _startTimestamp;

    public CallDeadline(TimeSpan timeout)
    {
        Timeout = timeout;
        _startTimestamp = Stopwatch.GetTimestamp();
        UnixMilliseconds = IsInfinite
            ? 0
            : DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + (long)Math.Ceiling(timeout.TotalMilliseconds);
    }

    public TimeSpan Timeout { get; }

    public bool IsInfinite => Timeout == System.Threading.Timeout.InfiniteTimeSpan;

    /// <summary>The absolute deadline carried in the request header (0 = none).</summary>
    public long UnixMilliseconds { get; }

    public TimeSpan Remaining
    {
        get
        {
            if (IsInfinite)
            {
                return System.Threading.Timeout.InfiniteTimeSpan;
            }

            TimeSpan left = Timeout - Stopwatch.GetElapsedTime(_startTimestamp);
            return left > TimeSpan.Zero ? left : TimeSpan.Zero;
        }
    }

    public bool IsExpired => !IsInfinite && Remaining == TimeSpan.Zero;

    /// <summary>When the budget runs out, as a <see cref="Stopwatch"/> timestamp; <see cref="long.MaxValue"/> when infinite.</summary>
    public long ExpiresAtTimestamp =>
        IsInfinite ? long.MaxValue : _startTimestamp + (long)(Timeout.TotalSeconds * Stopwatch.Frequency);

    /// <summary>
    /// The next wait: at most <paramref name="slice"/>, never (much) past the deadline, in whole milliseconds.
    /// </summary>
    /// <remarks>
    /// NetMQ turns a timeout into whole milliseconds and treats a non-zero <see cref="TimeSpan"/> that rounds to 0 ms
    /// as "no timeout": a 0.5 ms wait blocks until a message arrives. So never hand it less than 1 ms.
    /// </remarks>
    public TimeSpan NextWait(TimeSpan slice)
    {
        TimeSpan wait = IsInfinite || Remaining > slice ? slice : Remaining;
        return TimeSpan.FromMilliseconds(Math.Max(1, Math.Ceiling(wait.TotalMilliseconds)));
    }

    public static string Describe(TimeSpan timeout) =>
        timeout == System.Threading.Timeout.InfiniteTimeSpan ? "no timeout"
        : timeout.TotalSeconds >= 1 ? $"{timeout.TotalSeconds:0.###} s"
        : $"{timeout.TotalMilliseconds:0.###} ms";
}
