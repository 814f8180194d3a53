using System.Security.Cryptography;
using System.Threading;

namespace TypedZmq.Client;

/// <summary>
/// Request ids: each client starts at a random 64-bit value and counts up, so ids are unique per client and, in
/// practice, across clients too: a server's reply cache can key on the id alone, even after the client replaced its
/// socket (and with it its ZeroMQ identity). 0 is never used (it marks errors about unreadable requests).
/// </summary>
internal static class RequestIds
{
    public static long RandomStart()
    {
        System.Span<byte> bytes = stackalloc byte[8];
        long start;
        do
        {
            RandomNumberGenerator.Fill(bytes);
            start = System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(bytes);
        }
        while (start == 0 || start == -1);
        return start;
    }

    public static ulong Next(ref long last)
    {
        ulong id = (ulong)Interlocked.Increment(ref last);
        return id != 0 ? id : (ulong)Interlocked.Increment(ref last);
    }
}
