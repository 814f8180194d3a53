using System;
using System.Buffers.Binary;

namespace TypedZmq.Protocol;

/// <summary>
/// A bounds-checked cursor over a payload for <see cref="Internal.PayloadSchema"/> walks. Every length it is given is
/// compared with what is left, in 64-bit arithmetic, so nothing it accepts can send a reader outside the message.
/// </summary>
internal ref struct PayloadReader
{
    /// <summary>The object header byte that stands for null.</summary>
    public const byte NullObject = 255;

    /// <summary>
    /// How deeply objects and unions may nest. MemoryPack's reader has no limit, so a deep enough payload of a recursive
    /// type would overflow the stack (which ends the process); legitimate data this deep is rare.
    /// </summary>
    public const int MaxDepth = 128;

    private readonly ReadOnlySpan<byte> _data;

    public PayloadReader(ReadOnlySpan<byte> data)
    {
        _data = data;
        Position = 0;
        Stopped = false;
    }

    public int Position { get; private set; }

    public readonly long Remaining => _data.Length - Position;

    /// <summary>A value TypedZmq cannot see inside was met; the rest of the payload was scanned conservatively instead.</summary>
    public bool Stopped { get; private set; }

    public byte ReadByte(string what)
    {
        if (Position >= _data.Length)
        {
            throw Truncated(what, 1);
        }

        return _data[Position++];
    }

    public ushort ReadUInt16(string what)
    {
        ReadOnlySpan<byte> bytes = Take(2, what);
        return BinaryPrimitives.ReadUInt16LittleEndian(bytes);
    }

    public int ReadInt32(string what)
    {
        ReadOnlySpan<byte> bytes = Take(4, what);
        return BinaryPrimitives.ReadInt32LittleEndian(bytes);
    }

    /// <summary>MemoryPack's variable-length int32: one signed byte, or a type code and a fixed-size integer.</summary>
    public int ReadVarInt32(string what)
    {
        long value = ReadVarInt(what);
        if (value is < int.MinValue or > int.MaxValue)
        {
            throw Fail(Position, $"the {what} {value} does not fit an int");
        }

        return (int)value;
    }

    public uint ReadVarUInt32(string what)
    {
        long value = ReadVarInt(what);
        if (value is < 0 or > uint.MaxValue)
        {
            throw Fail(Position, $"the {what} {value} does not fit a uint");
        }

        return (uint)value;
    }

    /// <summary>Moves past <paramref name="count"/> bytes, if the payload has them.</summary>
    public void Skip(long count, string what, int? start = null)
    {
        if (count < 0 || count > Remaining)
        {
            throw Fail(start ?? Position, $"the {what} claims {count} bytes but {Remaining} remain");
        }

        Position += (int)count;
    }

    /// <summary>Refuses a collection count that is negative or that its elements could not fit in what is left.</summary>
    public readonly void EnsureCount(int count, int minElementSize, string what, int start)
    {
        if (count < 0)
        {
            throw Fail(start, $"the {what} length {count} is negative");
        }

        if ((long)count * minElementSize > Remaining)
        {
            throw Fail(start, $"the {what} claims {count} elements of at least {minElementSize} bytes but {Remaining} bytes remain");
        }
    }

    /// <summary>One level deeper into objects and unions, within <see cref="MaxDepth"/>.</summary>
    public static void Enter(ref int depth, string what, int start)
    {
        if (++depth > MaxDepth)
        {
            throw Fail(start, $"{what} is nested more than {MaxDepth} levels deep");
        }
    }

    /// <summary>
    /// For a value whose layout is unknown: refuse the payload if anything from here to its end could be a UTF-8 string
    /// prefix that MemoryPack 1.21.4 mishandles (int32 values <c>int.MinValue</c> to <c>int.MinValue + 3</c>), then stop.
    /// </summary>
    public void StopWithConservativeScan(string what)
    {
        int found = FindOverflowingStringPrefix(_data.Slice(Position));
        if (found >= 0)
        {
            throw Fail(Position + found,
                $"{what} has a layout TypedZmq cannot check, and the bytes from here on hold a value MemoryPack could misread as a " +
                "string length that overflows (0x8000000x); the payload was refused");
        }

        Stopped = true;
    }

    /// <summary>Where a little-endian int32 in <c>[int.MinValue, int.MinValue + 3]</c> starts, or -1.</summary>
    public static int FindOverflowingStringPrefix(ReadOnlySpan<byte> data)
    {
        ReadOnlySpan<byte> tail = [0x00, 0x00, 0x80];
        int offset = 1;
        while (offset < data.Length)
        {
            int hit = data.Slice(offset).IndexOf(tail);
            if (hit < 0)
            {
                return -1;
            }

            int at = offset + hit;
            if (data[at - 1] <= 3)
            {
                return at - 1;
            }

            offset = at + 1;
        }

        return -1;
    }

    public static PayloadException Fail(int at, string message) => new($"at byte {at}: {message}");

    private long ReadVarInt(string what)
    {
        int start = Position;
        sbyte code = unchecked((sbyte)ReadByte(what));
        switch (code)
        {
            case -121: return ReadByte(what);
            case -122: return unchecked((sbyte)ReadByte(what));
            case -123: return BinaryPrimitives.ReadUInt16LittleEndian(Take(2, what));
            case -124: return BinaryPrimitives.ReadInt16LittleEndian(Take(2, what));
            case -125: return BinaryPrimitives.ReadUInt32LittleEndian(Take(4, what));
            case -126: return BinaryPrimitives.ReadInt32LittleEndian(Take(4, what));
            case -127:
                ulong unsigned = BinaryPrimitives.ReadUInt64LittleEndian(Take(8, what));
                if (unsigned > long.MaxValue)
                {
                    throw Fail(start, $"the {what} {unsigned} is out of range");
                }

                return (long)unsigned;
            case -128: return BinaryPrimitives.ReadInt64LittleEndian(Take(8, what));
            default: return code; // -120..127 stand for themselves
        }
    }

    private ReadOnlySpan<byte> Take(int count, string what)
    {
        if (count > Remaining)
        {
            throw Truncated(what, count);
        }

        ReadOnlySpan<byte> bytes = _data.Slice(Position, count);
        Position += count;
        return bytes;
    }

    private readonly PayloadException Truncated(string what, int needed) =>
        Fail(Position, $"the payload ends inside a {what} ({needed} bytes needed, {Remaining} remain)");
}

/// <summary>A payload that its schema says MemoryPack must not read. Never escapes the runtime.</summary>
internal sealed class PayloadException : Exception
{
    public PayloadException(string message)
        : base(message)
    {
    }
}
