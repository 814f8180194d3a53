using System;
using NetMQ;

namespace TypedZmq.Sockets;

/// <summary>
/// ZeroMQ heartbeats (ZMTP 3.1 PING/PONG, which NetMQ 4.0.4.5 implements and libzmq 4.3 answers): a connection with no
/// traffic for the timeout is closed, which a client's monitor and a server's disconnect message then report.
/// </summary>
/// <remarks>
/// Turned on for DEALER (the multiplexed channel) and ROUTER (the concurrent server) sockets only, where something acts
/// on a lost connection. On a REQ/REP pair NetMQ 4.0.4.5 with heartbeats on either end left a request unanswered: a
/// client that replaced its REQ socket after a timeout, while the REP server was still busy with the old request, never
/// got the reply to its next one (two tests in TimeoutAndCancellationTests show it). Not diagnosed further; the request
/// channel notices a lost server at its timeout, as it always did.
/// </remarks>
internal static class Heartbeats
{
    /// <summary>The default interval between PINGs on an idle connection.</summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(1);

    /// <summary>The default time without any traffic after a PING before the connection counts as lost.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Sets the heartbeat options on <paramref name="socket"/> (before it connects or binds); an interval of zero turns them off.</summary>
    public static void Apply(NetMQSocket socket, TimeSpan interval, TimeSpan timeout)
    {
        if (interval <= TimeSpan.Zero)
        {
            return;
        }

        socket.Options.HeartbeatInterval = interval;
        socket.Options.HeartbeatTimeout = timeout;

        // What this side asks the peer to allow it: twice the timeout, and NetMQ's TTL wraps above 65.5 s.
        socket.Options.HeartbeatTtl = TimeSpan.FromMilliseconds(Math.Min(timeout.TotalMilliseconds * 2, 60_000));
    }

    public static void Validate(TimeSpan interval, TimeSpan timeout, string what)
    {
        if (interval < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(what + ".HeartbeatInterval", interval, "Must not be negative (zero turns heartbeats off).");
        }

        if (interval > TimeSpan.Zero && timeout < interval)
        {
            throw new ArgumentOutOfRangeException(what + ".HeartbeatTimeout", timeout, $"Must be at least the heartbeat interval ({interval}).");
        }
    }
}
