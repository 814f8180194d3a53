using System;
using NetMQ;

namespace TypedZmq.Protocol;

/// <summary>Sends and receives the two TypedZmq frames (header, payload) with NetMQ's <see cref="Msg"/> API.</summary>
internal static class Frames
{
    /// <summary>Sends header + payload as one two-frame message. Returns false if the socket would not take it in time.</summary>
    public static bool TrySend(NetMQSocket socket, in RpcHeader header, ReadOnlySpan<byte> payload, TimeSpan timeout)
    {
        var msg = default(Msg);
        msg.InitPool(RpcHeader.Size);
        try
        {
            header.Write(msg.Slice());
            if (!socket.TrySend(ref msg, timeout, more: true))
            {
                return false;
            }

            msg.Close();
            if (payload.Length == 0)
            {
                msg.InitEmpty();
            }
            else
            {
                msg.InitPool(payload.Length);
                payload.CopyTo(msg.Slice());
            }

            // The first frame is queued, so ZeroMQ takes the rest of the message without blocking (multipart is atomic).
            if (!socket.TrySend(ref msg, TimeSpan.FromSeconds(5), more: false))
            {
                throw new InvalidOperationException("NetMQ accepted the header frame but not the payload frame.");
            }

            return true;
        }
        finally
        {
            msg.Close();
        }
    }

    /// <summary>Receives and discards the rest of a multipart message whose first frame(s) were already read.</summary>
    /// <returns>How many frames were discarded.</returns>
    public static int DrainRemainingFrames(NetMQSocket socket, bool hasMore)
    {
        int count = 0;
        var msg = default(Msg);
        msg.InitEmpty();
        try
        {
            while (hasMore)
            {
                // The remaining parts of a message arrive with its first part; a short wait is only a safety net.
                if (!socket.TryReceive(ref msg, TimeSpan.FromSeconds(1)))
                {
                    break;
                }

                count++;
                hasMore = msg.HasMore;
            }
        }
        finally
        {
            msg.Close();
        }

        return count;
    }
}
