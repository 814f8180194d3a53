using System;
using System.Buffers;
using System.Buffers.Binary;
using NetMQ;

namespace TypedZmq.Protocol;

/// <summary>
/// Several complete messages in one frame (docs/protocol.md, "Batches"): a 32-byte header of kind
/// <see cref="MessageKind.Batch"/>, then per message a <c>uint32</c> length and the message. NetMQ's cost is per frame,
/// so messages that are ready at the same moment travel together. Only sent to a peer that said it reads batches
/// (<see cref="RpcHeader.BatchesWelcomeFlag"/>); never held back waiting for company: the owner of a socket flushes its
/// batches at the end of each turn of its poller.
/// </summary>
/// <remarks>
/// One instance per destination, used on the socket's thread only. The buffer is rented from the pool on the first
/// message and returned at each send, so an idle destination holds no memory.
/// </remarks>
internal sealed class MessageBatch
{
    /// <summary>The most messages one batch may hold; a batch with more is refused whole.</summary>
    public const int MaxMessages = 1024;

    /// <summary>Messages larger than this go alone: copying them into a batch would cost more than their frame.</summary>
    public const int MaxBatchedMessageSize = 8 * 1024;

    /// <summary>A batch is sent once it holds this many bytes (or <see cref="SendAtCount"/> messages), without waiting for the turn to end.</summary>
    private const int SendAtSize = 64 * 1024;

    private const int SendAtCount = 256;

    private const int LengthSize = 4;

    /// <summary>
    /// The largest frame a batch of this implementation can be: it is sent once it passes <see cref="SendAtSize"/>, so
    /// at most one message of <see cref="MaxBatchedMessageSize"/> over it. A peer only says it reads batches when its own
    /// largest message (MaxMessageSize, where ZeroMQ drops the connection) is at least this.
    /// </summary>
    public const int MaxFrameSize = RpcHeader.Size + SendAtSize + LengthSize + MaxBatchedMessageSize;

    private byte[]? _buffer;
    private int _length; // bytes written, from the start of the buffer (which leaves room for the batch header)

    /// <summary>How many messages wait in the batch.</summary>
    public int Count { get; private set; }

    /// <summary>Whether the batch should be sent now rather than at the end of the turn.</summary>
    public bool IsFull => Count >= SendAtCount || _length >= SendAtSize;

    /// <summary>Whether a message of <paramref name="size"/> bytes may join a batch.</summary>
    public static bool Fits(int size) => size <= MaxBatchedMessageSize;

    /// <summary>Reserves room for one message of exactly <paramref name="size"/> bytes; the caller writes it all.</summary>
    public Span<byte> Add(int size)
    {
        if (_buffer is null)
        {
            _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(4096, RpcHeader.Size + LengthSize + size));
            _length = RpcHeader.Size;
        }
        else if (_buffer.Length - _length < LengthSize + size)
        {
            byte[] larger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _length + LengthSize + size));
            _buffer.AsSpan(0, _length).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = larger;
        }

        BinaryPrimitives.WriteUInt32LittleEndian(_buffer.AsSpan(_length), (uint)size);
        Span<byte> message = _buffer.AsSpan(_length + LengthSize, size);
        _length += LengthSize + size;
        Count++;
        return message;
    }

    /// <summary>
    /// Sends what the batch holds as one message (a lone message as itself, unwrapped, so a batch of one costs nothing)
    /// after <paramref name="envelope"/> and an empty delimiter if <paramref name="delimiter"/>, and empties the batch
    /// either way. False when the socket would not take it now: the caller settles the messages it held.
    /// </summary>
    public bool TrySend(NetMQSocket socket, byte[][]? envelope, bool delimiter)
    {
        if (Count == 0)
        {
            return true;
        }

        byte[] buffer = _buffer!;
        int start = RpcHeader.Size;
        int end = _length;
        if (Count == 1)
        {
            start += LengthSize; // the message itself
        }
        else
        {
            start = 0;
            new RpcHeader(MessageKind.Batch, RpcStatus.Ok, 0, 0, 0, 0).Write(buffer);
        }

        try
        {
            return Frames.TrySendCopy(socket, envelope, delimiter, buffer.AsSpan(start, end - start));
        }
        finally
        {
            Clear();
        }
    }

    /// <summary>Forgets what the batch holds and gives its buffer back to the pool.</summary>
    public void Clear()
    {
        if (_buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
        }

        _length = 0;
        Count = 0;
    }

    /// <summary>Whether <paramref name="frame"/> is a batch (by its header, which is not checked further).</summary>
    public static bool IsBatch(ReadOnlySpan<byte> frame) =>
        frame.Length >= RpcHeader.Size && frame[0] == RpcHeader.Magic && frame[1] == RpcHeader.CurrentVersion && frame[2] == (byte)MessageKind.Batch;

    /// <summary>
    /// Checks a batch's structure before anything in it is used: at least one and at most <see cref="MaxMessages"/>
    /// messages, each at least a header long and inside the frame, and nothing left over. Every length is hostile until
    /// compared with the bytes that are really there.
    /// </summary>
    /// <returns>Null when the batch can be read; otherwise why not, in words for the peer's developer.</returns>
    public static string? Check(ReadOnlySpan<byte> frame)
    {
        int offset = RpcHeader.Size;
        int count = 0;
        while (offset < frame.Length)
        {
            if (frame.Length - offset < LengthSize)
            {
                return $"the batch ends {frame.Length - offset} bytes into a message length";
            }

            uint length = BinaryPrimitives.ReadUInt32LittleEndian(frame.Slice(offset));
            offset += LengthSize;
            if (length < RpcHeader.Size || length > (uint)(frame.Length - offset))
            {
                return $"message {count + 1} of the batch says it is {length} bytes, but {frame.Length - offset} bytes are left " +
                       $"and a message is at least {RpcHeader.Size}";
            }

            offset += (int)length;
            if (++count > MaxMessages)
            {
                return $"the batch holds more than {MaxMessages} messages";
            }
        }

        return count == 0 ? "the batch holds no message" : null;
    }

    /// <summary>
    /// The next message of a batch that passed <see cref="Check"/>, starting at <paramref name="offset"/> (begin at
    /// <see cref="RpcHeader.Size"/>); false at the end.
    /// </summary>
    public static bool TryNext(ReadOnlySpan<byte> frame, ref int offset, out int start, out int length)
    {
        if (offset >= frame.Length)
        {
            start = length = 0;
            return false;
        }

        length = (int)BinaryPrimitives.ReadUInt32LittleEndian(frame.Slice(offset));
        start = offset + LengthSize;
        offset = start + length;
        return true;
    }
}
