using System;

namespace TypedZmq.Security;

/// <summary>
/// ZeroMQ's Z85 text encoding (RFC 32/Z85): four bytes become five printable characters, so a 32-byte key is 40
/// characters, the form ZeroMQ certificates use.
/// </summary>
internal static class Z85
{
    private const string Alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

    private static readonly sbyte[] Decoder = BuildDecoder();

    /// <summary>Encodes <paramref name="data"/>, whose length must be a multiple of four.</summary>
    public static string Encode(ReadOnlySpan<byte> data)
    {
        if (data.Length % 4 != 0)
        {
            throw new ArgumentException("Z85 encodes whole groups of four bytes.", nameof(data));
        }

        Span<char> text = stackalloc char[data.Length / 4 * 5];
        for (int i = 0, c = 0; i < data.Length; i += 4)
        {
            uint value = ((uint)data[i] << 24) | ((uint)data[i + 1] << 16) | ((uint)data[i + 2] << 8) | data[i + 3];
            for (int d = 4; d >= 0; d--)
            {
                text[c + d] = Alphabet[(int)(value % 85)];
                value /= 85;
            }

            c += 5;
        }

        return new string(text);
    }

    /// <summary>Decodes exactly <paramref name="destination"/>.Length bytes from <paramref name="text"/>; false if it is not that.</summary>
    public static bool TryDecode(ReadOnlySpan<char> text, Span<byte> destination)
    {
        if (text.Length % 5 != 0 || text.Length / 5 * 4 != destination.Length)
        {
            return false;
        }

        for (int i = 0, b = 0; i < text.Length; i += 5)
        {
            ulong value = 0;
            for (int d = 0; d < 5; d++)
            {
                char ch = text[i + d];
                int digit = ch < Decoder.Length ? Decoder[ch] : -1;
                if (digit < 0)
                {
                    return false;
                }

                value = (value * 85) + (uint)digit;
            }

            if (value > uint.MaxValue)
            {
                return false; // five characters can say more than four bytes hold: not a canonical encoding
            }

            destination[b++] = (byte)(value >> 24);
            destination[b++] = (byte)(value >> 16);
            destination[b++] = (byte)(value >> 8);
            destination[b++] = (byte)value;
        }

        return true;
    }

    private static sbyte[] BuildDecoder()
    {
        var table = new sbyte[128];
        table.AsSpan().Fill(-1);
        for (int i = 0; i < Alphabet.Length; i++)
        {
            table[Alphabet[i]] = (sbyte)i;
        }

        return table;
    }
}
