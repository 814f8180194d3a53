// This file is compiled into both the runtime and the generator (linked), so that the ids the generator bakes into
// generated code and the ids the runtime (and its tests) compute can never drift apart.
namespace TypedZmq.Protocol;

/// <summary>32-bit FNV-1a over the UTF-8 bytes of a string: the hash behind default service and method ids.</summary>
internal static class Fnv1a
{
    private const uint OffsetBasis = 2166136261;
    private const uint Prime = 16777619;

    public static uint Hash(string text)
    {
        uint hash = OffsetBasis;
        for (int i = 0; i < text.Length; i++)
        {
            int codePoint = text[i];
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                codePoint = char.ConvertToUtf32(text[i], text[i + 1]);
                i++;
            }

            // Encode the code point as UTF-8 without allocating; lone surrogates become U+FFFD, as Encoding.UTF8 does.
            if (codePoint >= 0xD800 && codePoint <= 0xDFFF)
            {
                codePoint = 0xFFFD;
            }

            if (codePoint < 0x80)
            {
                hash = Step(hash, (byte)codePoint);
            }
            else if (codePoint < 0x800)
            {
                hash = Step(hash, (byte)(0xC0 | (codePoint >> 6)));
                hash = Step(hash, (byte)(0x80 | (codePoint & 0x3F)));
            }
            else if (codePoint < 0x10000)
            {
                hash = Step(hash, (byte)(0xE0 | (codePoint >> 12)));
                hash = Step(hash, (byte)(0x80 | ((codePoint >> 6) & 0x3F)));
                hash = Step(hash, (byte)(0x80 | (codePoint & 0x3F)));
            }
            else
            {
                hash = Step(hash, (byte)(0xF0 | (codePoint >> 18)));
                hash = Step(hash, (byte)(0x80 | ((codePoint >> 12) & 0x3F)));
                hash = Step(hash, (byte)(0x80 | ((codePoint >> 6) & 0x3F)));
                hash = Step(hash, (byte)(0x80 | (codePoint & 0x3F)));
            }
        }

        return hash;
    }

    private static uint Step(uint hash, byte value) => unchecked((hash ^ value) * Prime);
}
