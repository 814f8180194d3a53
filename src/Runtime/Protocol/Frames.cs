using System;
using NetMQ;
using TypedZmq.Security;

namespace TypedZmq.Protocol;

/// <summary>
/// Sends TypedZmq messages with NetMQ's <see cref="Msg"/> API. A message is one frame: the 32-byte header followed by
/// the payload. (One frame rather than two halves NetMQ's work per message: its cost is per frame, not per byte.)
/// </summary>
internal static class Frames
{
    /// <summary>Sends header + payload as one frame. Returns false if the socket would not take it in time.</summary>
    public static bool TrySend(NetMQSocket socket, in RpcHeader header, ReadOnlySpan<byte> payload, TimeSpan timeout) =>
        TrySend(socket, envelope: null, delimiter: false, header, payload, timeout);

    /// <summary>
    /// Sends [envelope frames] [empty delimiter] header + payload as one message: what a DEALER sends to imitate a REQ
    /// peer (no envelope, a delimiter), and what a ROUTER sends back to a peer (its envelope, a delimiter).
    /// Returns false if the socket would not take the first frame in time.
    /// </summary>
    public static bool TrySend(NetMQSocket socket, byte[][]? envelope, bool delimiter, in RpcHeader header, ReadOnlySpan<byte> payload, TimeSpan timeout) =>
        TrySend(socket, envelope, delimiter, header, metadata: null, payload, timeout, sealer: null);

    /// <summary>
    /// Sends [envelope frames] [empty delimiter] header + metadata block (when <paramref name="metadata"/> has entries and
    /// the header says so) + payload as one message, sealed as a whole by <paramref name="sealer"/> in secure mode.
    /// Returns false if the socket would not take the first frame in time. A <c>sendBuffer</c> of at least
    /// <see cref="BodySize"/> bytes is used for the body instead of a new buffer; NetMQ reads it until the message has
    /// gone out, so the caller may reuse it only once it knows that (a reply to it arrived).
    /// </summary>
    public static bool TrySend(NetMQSocket socket, byte[][]? envelope, bool delimiter, in RpcHeader header, RpcMetadata? metadata, ReadOnlySpan<byte> payload, TimeSpan timeout, ClientSealer? sealer, byte[]? sendBuffer = null)
    {
        var msg = default(Msg);
        msg.InitEmpty();
        try
        {
            bool first = true;
            if (!SendEnvelope(socket, envelope, delimiter, ref msg, timeout, ref first))
            {
                return false;
            }

            InitBody(ref msg, BodySize(header, metadata, payload.Length, sealer), sendBuffer);
            WriteBody(msg.Slice(), header, metadata, payload, sealer);
            return SendBody(socket, ref msg, timeout, first);
        }
        finally
        {
            msg.Close();
        }
    }

    /// <summary>The size of the body frame <see cref="TrySend(NetMQSocket, byte[][], bool, in RpcHeader, RpcMetadata, ReadOnlySpan{byte}, TimeSpan, ClientSealer, byte[])"/> builds.</summary>
    public static int BodySize(in RpcHeader header, RpcMetadata? metadata, int payloadLength, ClientSealer? sealer)
    {
        int metadataSize = header.HasMetadata && metadata is not null ? MetadataBlock.EncodedSize(metadata) : 0;
        int size = RpcHeader.Size + metadataSize + payloadLength;
        return sealer is null ? size : ClientSealer.SealedSize(size);
    }

    /// <summary>
    /// Writes header + metadata block + payload (sealed as a whole by <paramref name="sealer"/> in secure mode) into
    /// <paramref name="body"/>, which is exactly <see cref="BodySize"/> bytes.
    /// </summary>
    public static void WriteBody(Span<byte> body, in RpcHeader header, RpcMetadata? metadata, ReadOnlySpan<byte> payload, ClientSealer? sealer)
    {
        int metadataSize = header.HasMetadata && metadata is not null ? MetadataBlock.EncodedSize(metadata) : 0;
        int size = RpcHeader.Size + metadataSize + payload.Length;
        if (sealer is null)
        {
            Write(body, header, metadata, metadataSize, payload);
            return;
        }

        PayloadBuffer plain = sealer.BeginPlain();
        Write(plain.GetSpan(size), header, metadata, metadataSize, payload);
        plain.Advance(size);
        sealer.Seal(header.RequestId, header.Kind == MessageKind.Cancel, body, header.Flags & RpcHeader.BatchesWelcomeFlag);
    }

    /// <summary>
    /// Sends [envelope frames] [empty delimiter] <paramref name="body"/> (copied into a pooled message) without waiting.
    /// False if the socket would not take the first frame now.
    /// </summary>
    public static bool TrySendCopy(NetMQSocket socket, byte[][]? envelope, bool delimiter, ReadOnlySpan<byte> body)
    {
        var msg = default(Msg);
        msg.InitEmpty();
        try
        {
            bool first = true;
            if (!SendEnvelope(socket, envelope, delimiter, ref msg, TimeSpan.Zero, ref first))
            {
                return false;
            }

            msg.InitPool(body.Length);
            body.CopyTo(msg.Slice());
            return SendBody(socket, ref msg, TimeSpan.Zero, first);
        }
        finally
        {
            msg.Close();
        }
    }

    private static void InitBody(ref Msg msg, int size, byte[]? sendBuffer)
    {
        if (sendBuffer is not null && sendBuffer.Length >= size)
        {
            msg.InitGC(sendBuffer, 0, size); // the caller's buffer: no allocation
        }
        else
        {
            msg.InitPool(size);
        }
    }

    private static void Write(Span<byte> body, in RpcHeader header, RpcMetadata? metadata, int metadataSize, ReadOnlySpan<byte> payload)
    {
        header.Write(body);
        if (metadataSize > 0)
        {
            MetadataBlock.Write(metadata!, body.Slice(RpcHeader.Size, metadataSize));
        }

        payload.CopyTo(body.Slice(RpcHeader.Size + metadataSize));
    }

    /// <summary>Sends the envelope frames and the empty delimiter, if any; false if the socket would not take the first in time.</summary>
    private static bool SendEnvelope(NetMQSocket socket, byte[][]? envelope, bool delimiter, ref Msg msg, TimeSpan timeout, ref bool first)
    {
        if (envelope is not null)
        {
            foreach (byte[] frame in envelope)
            {
                // Envelope arrays are never written after creation, so NetMQ may hold on to them: no copy.
                msg.InitGC(frame, frame.Length);
                if (!SendPart(socket, ref msg, timeout, ref first))
                {
                    return false;
                }
            }
        }

        if (delimiter)
        {
            msg.InitEmpty();
            if (!SendPart(socket, ref msg, timeout, ref first))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Sends the body, the message's last frame; false if it is the first frame and the socket would not take it in time.</summary>
    private static bool SendBody(NetMQSocket socket, ref Msg msg, TimeSpan timeout, bool first)
    {
        if (socket.TrySend(ref msg, first ? timeout : TimeSpan.FromSeconds(5), more: false))
        {
            return true;
        }

        return first ? false : throw new InvalidOperationException("NetMQ accepted the first frames of a message but not its body frame.");
    }

    private static bool SendPart(NetMQSocket socket, ref Msg msg, TimeSpan timeout, ref bool first)
    {
        // Once the first part is queued ZeroMQ takes the rest of the message without blocking (multipart is atomic).
        if (!socket.TrySend(ref msg, first ? timeout : TimeSpan.FromSeconds(5), more: true))
        {
            if (!first)
            {
                throw new InvalidOperationException("NetMQ accepted the first frame of a message but not the next one.");
            }

            return false;
        }

        first = false;
        msg.Close();
        return true;
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
