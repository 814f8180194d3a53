using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace TypedZmq.Diagnostics;

/// <summary>
/// Logs refused requests at most once per second, with the number left out since, so a flood of garbage from a peer
/// costs the log one line a second. Loop thread only.
/// </summary>
internal sealed class RefusalLog(ILogger logger)
{
    private long _windowStart = long.MinValue;
    private long _suppressed;

    public void Refused(RpcPeer peer, RpcStatus status, string reason)
    {
        if (!logger.IsEnabled(LogLevel.Warning))
        {
            return;
        }

        long now = Stopwatch.GetTimestamp();
        if (_windowStart != long.MinValue && Stopwatch.GetElapsedTime(_windowStart, now).TotalSeconds < 1)
        {
            _suppressed++;
            return;
        }

        Log.RequestRefused(logger, peer.ToString(), status, reason, _suppressed);
        _windowStart = now;
        _suppressed = 0;
    }
}
