using System;
using System.Buffers;

namespace TypedZmq.Protocol;

/// <summary>
/// A growable <see cref="IBufferWriter{T}"/> over an array rented from <see cref="ArrayPool{T}.Shared"/>.
/// One instance is owned by one call at a time and reset between calls, so encoding costs no per-call array.
/// </summary>
internal sealed class PayloadBuffer : IBufferWriter<byte>
{
    private const int InitialSize = 256;

    // Buffers that grew past this go back to the pool instead of staying pinned to a cached owner.
    private const int RetainLimit = 64 * 1024;

    private byte[] _buffer = Array.Empty<byte>();
    private int _written;

    public int WrittenCount => _written;

    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _written);

    /// <summary>What was written, to patch in place (a count written before the items it counts).</summary>
    public Span<byte> Written => _buffer.AsSpan(0, _written);

    public void Advance(int count)
    {
        if (count < 0 || _written + count > _buffer.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(count));
        }

        _written += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(_written);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(_written);
    }

    /// <summary>Forgets what was written; keeps a small buffer for the next call, returns a large one to the pool.</summary>
    public void Reset()
    {
        _written = 0;
        if (_buffer.Length > RetainLimit)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = Array.Empty<byte>();
        }
    }

    private void Ensure(int sizeHint)
    {
        if (sizeHint < 1)
        {
            sizeHint = 1;
        }

        if (_buffer.Length - _written >= sizeHint)
        {
            return;
        }

        int needed = checked(_written + sizeHint);
        int size = Math.Max(needed, Math.Max(InitialSize, _buffer.Length * 2));
        byte[] next = ArrayPool<byte>.Shared.Rent(size);
        _buffer.AsSpan(0, _written).CopyTo(next);
        if (_buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
        }

        _buffer = next;
    }
}
