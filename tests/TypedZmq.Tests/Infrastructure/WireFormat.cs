using System.Buffers.Binary;
using System.Text;

namespace TypedZmq.Tests.Infrastructure;

/// <summary>
/// The wire format written from docs/protocol.md alone, independently of the runtime's own code, so that tests with
/// hand-built frames check the document as much as the implementation.
/// </summary>
public static class WireFormat
{
    public const int HeaderSize = 32;

    public static uint Fnv1a(string text)
    {
        uint hash = 2166136261;
        foreach (byte b in Encoding.UTF8.GetBytes(text))
        {
            hash = unchecked((hash ^ b) * 16777619);
        }

        return hash;
    }

    public static byte[] Header(byte kind, ulong requestId, uint serviceId, uint methodId, long deadline = 0, byte version = 1, byte magic = 0x54, byte status = 0, uint flags = 0)
    {
        var header = new byte[HeaderSize];
        header[0] = magic;
        header[1] = version;
        header[2] = kind;
        header[3] = status;
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(4), flags);
        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(8), requestId);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(16), serviceId);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(20), methodId);
        BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(24), deadline);
        return header;
    }

    public static byte[] Int32s(params int[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(i * 4), values[i]);
        }

        return bytes;
    }

    /// <summary>Flag bit 0: a metadata block follows the header.</summary>
    public const uint HasMetadata = 1;

    /// <summary>A metadata block: uint32 length of what follows, then per entry uint8 key length, ASCII key, uint32 value length, value.</summary>
    public static byte[] MetadataBlock(params (string Key, byte[] Value)[] entries)
    {
        var body = new List<byte>();
        foreach ((string key, byte[] value) in entries)
        {
            body.Add((byte)key.Length);
            body.AddRange(Encoding.ASCII.GetBytes(key));
            body.AddRange(BitConverter.GetBytes((uint)value.Length));
            body.AddRange(value);
        }

        return [.. BitConverter.GetBytes((uint)body.Count), .. body];
    }

    /// <summary>Flag bit 2: the sender reads batches (kind 7) on this connection.</summary>
    public const uint BatchesWelcome = 4;

    /// <summary>A batch (kind 7): a header with all else 0, then per message a uint32 length and the message.</summary>
    public static byte[] Batch(params byte[][] messages)
    {
        var batch = new List<byte>(Header(7, 0, 0, 0));
        foreach (byte[] message in messages)
        {
            batch.AddRange(BitConverter.GetBytes((uint)message.Length));
            batch.AddRange(message);
        }

        return [.. batch];
    }

    /// <summary>The messages of a batch frame, read from docs/protocol.md's layout.</summary>
    public static List<byte[]> Unbatch(byte[] frame)
    {
        Assert.Equal(7, frame[2]);
        var messages = new List<byte[]>();
        int offset = HeaderSize;
        while (offset < frame.Length)
        {
            int length = (int)BinaryPrimitives.ReadUInt32LittleEndian(frame.AsSpan(offset));
            messages.Add(frame[(offset + 4)..(offset + 4 + length)]);
            offset += 4 + length;
        }

        return messages;
    }

    /// <summary>The flags of a message frame's header.</summary>
    public static uint Flags(byte[] frame) => BinaryPrimitives.ReadUInt32LittleEndian(frame.AsSpan(4));

    /// <summary>A message frame: the 32-byte header, then the payload.</summary>
    public static byte[] Message(byte[] header, byte[] payload) => [.. header, .. payload];

    public static byte[] Payload(byte[] frame) => frame[HeaderSize..];

    /// <summary>Parses the header at the start of a message frame.</summary>
    public static ParsedHeader ParseHeader(byte[] frame)
    {
        Assert.True(frame.Length >= HeaderSize, $"a message frame holds at least the {HeaderSize}-byte header; this one has {frame.Length} bytes");
        return new ParsedHeader(
            frame[0],
            frame[1],
            frame[2],
            (RpcStatus)frame[3],
            BinaryPrimitives.ReadUInt64LittleEndian(frame.AsSpan(8)),
            BinaryPrimitives.ReadUInt32LittleEndian(frame.AsSpan(16)),
            BinaryPrimitives.ReadUInt32LittleEndian(frame.AsSpan(20)),
            BinaryPrimitives.ReadInt64LittleEndian(frame.AsSpan(24)));
    }

    /// <summary>Reads one MemoryPack string: int32 header; -1 null; &gt;= 0 UTF-16 chars; &lt; -1 ~utf8 byte count, then int32 UTF-16 length, then UTF-8.</summary>
    public static string? ReadString(ReadOnlySpan<byte> source, ref int offset)
    {
        int header = BinaryPrimitives.ReadInt32LittleEndian(source.Slice(offset));
        offset += 4;
        if (header == -1)
        {
            return null;
        }

        if (header >= 0)
        {
            string utf16 = Encoding.Unicode.GetString(source.Slice(offset, header * 2));
            offset += header * 2;
            return utf16;
        }

        int utf8Bytes = ~header;
        offset += 4; // the UTF-16 length, a decoding hint
        string utf8 = Encoding.UTF8.GetString(source.Slice(offset, utf8Bytes));
        offset += utf8Bytes;
        return utf8;
    }

    /// <summary>Reads the error body from an error message frame (header, then three strings).</summary>
    public static (string? Type, string? Message, string? Detail) ReadError(byte[] frame)
    {
        byte[] payload = Payload(frame);
        int offset = 0;
        string? type = ReadString(payload, ref offset);
        string? message = ReadString(payload, ref offset);
        string? detail = ReadString(payload, ref offset);
        Assert.Equal(payload.Length, offset);
        return (type, message, detail);
    }
}

public sealed record ParsedHeader(byte Magic, byte Version, byte Kind, RpcStatus Status, ulong RequestId, uint ServiceId, uint MethodId, long Deadline);
