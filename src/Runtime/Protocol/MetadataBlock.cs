using System;
using System.Buffers.Binary;
using System.Text;

namespace TypedZmq.Protocol;

/// <summary>
/// The optional metadata block of a request, between the header and the payload when flag bit 0 is set (see
/// docs/protocol.md): <c>uint32 length</c> of what follows, then entries of <c>uint8 keyLength, key (ASCII),
/// uint32 valueLength, value</c>. Read as hostile input: every length is checked against what is there.
/// </summary>
internal static class MetadataBlock
{
    /// <summary>The bytes <paramref name="metadata"/> takes on the wire, length field included.</summary>
    public static int EncodedSize(RpcMetadata metadata)
    {
        long size = 4;
        foreach (RpcMetadataEntry entry in metadata)
        {
            size += 1 + entry.Key.Length + 4 + entry.Value.Length;
        }

        return (int)Math.Min(size, int.MaxValue);
    }

    public static void Write(RpcMetadata metadata, Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, (uint)(destination.Length - 4));
        int at = 4;
        foreach (RpcMetadataEntry entry in metadata)
        {
            destination[at++] = (byte)entry.Key.Length;
            at += Encoding.ASCII.GetBytes(entry.Key, destination.Slice(at));
            BinaryPrimitives.WriteUInt32LittleEndian(destination.Slice(at), (uint)entry.Value.Length);
            at += 4;
            entry.Value.Span.CopyTo(destination.Slice(at));
            at += entry.Value.Length;
        }
    }

    /// <summary>Reads the block at the start of <paramref name="source"/>; on failure says why.</summary>
    /// <param name="source">The bytes after the header.</param>
    /// <param name="metadata">The entries, copied out of the message.</param>
    /// <param name="blockSize">How many bytes the block takes, length field included.</param>
    /// <param name="error">Why the block cannot be read, or null.</param>
    public static bool TryRead(ReadOnlySpan<byte> source, out RpcMetadata? metadata, out int blockSize, out string? error)
    {
        metadata = null;
        blockSize = 0;
        if (source.Length < 4)
        {
            error = "flag bit 0 says a metadata block follows the header, but the message ends before its length";
            return false;
        }

        uint length = BinaryPrimitives.ReadUInt32LittleEndian(source);
        if (length > RpcMetadata.MaxEncodedSize - 4 || length > source.Length - 4)
        {
            error = $"the metadata block claims {length} bytes; at most {RpcMetadata.MaxEncodedSize - 4} are allowed and {source.Length - 4} follow";
            return false;
        }

        ReadOnlySpan<byte> block = source.Slice(4, (int)length);
        var result = new RpcMetadata();
        int at = 0;
        while (at < block.Length)
        {
            int keyLength = block[at++];
            if (keyLength == 0 || keyLength > block.Length - at)
            {
                error = $"a metadata key at byte {at - 1} of the block is empty or runs past the block";
                return false;
            }

            ReadOnlySpan<byte> key = block.Slice(at, keyLength);
            foreach (byte b in key)
            {
                if (b is < (byte)'!' or > (byte)'~')
                {
                    error = $"a metadata key at byte {at} of the block holds a byte (0x{b:x2}) that is not printable ASCII";
                    return false;
                }
            }

            at += keyLength;
            if (block.Length - at < 4)
            {
                error = "the metadata block ends inside a value length";
                return false;
            }

            uint valueLength = BinaryPrimitives.ReadUInt32LittleEndian(block.Slice(at));
            at += 4;
            if (valueLength > (uint)(block.Length - at))
            {
                error = $"a metadata value claims {valueLength} bytes but {block.Length - at} remain in the block";
                return false;
            }

            result.AddDecoded(Encoding.ASCII.GetString(key), block.Slice(at, (int)valueLength).ToArray());
            at += (int)valueLength;
        }

        metadata = result;
        blockSize = 4 + (int)length;
        error = null;
        return true;
    }
}
