using System;
using System.Buffers.Binary;
using System.Security.Cryptography;
using NaCl;
using TypedZmq.Protocol;

namespace TypedZmq.Security;

/// <summary>
/// The secure parts of the wire format (docs/protocol.md, "Secure mode"). A sealed message is one frame: a 32-byte
/// outer header (kind 4 or 5, the request id, everything else zero), the client's public key (requests only), a
/// 24-byte nonce, and NaCl's <c>crypto_box</c> (X25519, XSalsa20, Poly1305: a 16-byte tag, then the ciphertext) of
/// the recipient's public key followed by a complete version-1 message. The nonce is the direction (1 request,
/// 2 reply), 7 random bytes naming the sender's session, a 64-bit counter and the sender's clock in Unix milliseconds,
/// so no nonce repeats under one key and a server can refuse what it has seen before or what is too old. The sealed
/// recipient key stops reflection: the box key is the same whichever side computes it, so a node that serves and calls
/// with one key pair could otherwise be handed its own request back as if its peer had sent it.
/// </summary>
internal static class Sealing
{
    public const int KeySize = 32;
    public const int NonceSize = 24;
    public const int TagSize = 16;

    /// <summary>Bytes a sealed request adds to the version-1 message it carries.</summary>
    public const int RequestOverhead = RpcHeader.Size + KeySize + NonceSize + TagSize + KeySize;

    /// <summary>Bytes a sealed reply adds to the version-1 message it carries.</summary>
    public const int ReplyOverhead = RpcHeader.Size + NonceSize + TagSize + KeySize;

    public const byte RequestDirection = 1;
    public const byte ReplyDirection = 2;

    /// <summary>
    /// The <c>crypto_box</c> of two keys, checked to be a real shared secret: a public key of low order (all-zero
    /// Diffie-Hellman result) would let anyone compute the box, so it is refused.
    /// </summary>
    public static Curve25519XSalsa20Poly1305? TryCreateBox(ReadOnlySpan<byte> secretKey, ReadOnlySpan<byte> publicKey)
    {
        Span<byte> shared = stackalloc byte[KeySize];
        Curve25519.ScalarMultiplication(shared, secretKey, publicKey);
        bool contributory = !CryptographicOperations.FixedTimeEquals(shared, stackalloc byte[KeySize]);
        CryptographicOperations.ZeroMemory(shared);
        return contributory ? new Curve25519XSalsa20Poly1305(secretKey, publicKey) : null;
    }

    /// <summary>
    /// Whether 32 bytes are the one canonical encoding of an X25519 public key: the top bit clear and the number below
    /// 2^255 - 19. X25519 ignores the top bit and reduces the rest, so other encodings name the same key, and a key
    /// that is compared as bytes (an allow-list, the replay guard) must have exactly one.
    /// </summary>
    public static bool IsCanonical(ReadOnlySpan<byte> key)
    {
        if (key.Length != KeySize || (key[31] & 0x80) != 0)
        {
            return false;
        }

        // Below p = 2^255 - 19 unless it is p..2^255-1: 0x7F, then thirty 0xFF, then a first byte >= 0xED.
        if (key[31] != 0x7F || key[0] < 0xED)
        {
            return true;
        }

        for (int i = 1; i < 31; i++)
        {
            if (key[i] != 0xFF)
            {
                return true;
            }
        }

        return false;
    }

    public static long ReadTimestamp(ReadOnlySpan<byte> nonce) => BinaryPrimitives.ReadInt64LittleEndian(nonce.Slice(16));

    public static ulong ReadCounter(ReadOnlySpan<byte> nonce) => BinaryPrimitives.ReadUInt64LittleEndian(nonce.Slice(8));

    /// <summary>The session part of a nonce: its 7 random bytes, as a number.</summary>
    public static ulong ReadSession(ReadOnlySpan<byte> nonce) => BinaryPrimitives.ReadUInt64LittleEndian(nonce) >> 8;

    /// <summary>Seals <paramref name="message"/> into <paramref name="box"/> (its length plus <see cref="TagSize"/>).</summary>
    public static void Seal(Curve25519XSalsa20Poly1305 key, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> message, Span<byte> box) =>
        key.Encrypt(box.Slice(0, message.Length + TagSize), message, nonce);

    /// <summary>Opens <paramref name="box"/> into <paramref name="message"/>; false if it was not sealed with this key and nonce.</summary>
    public static bool TryOpen(Curve25519XSalsa20Poly1305 key, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> box, Span<byte> message) =>
        box.Length >= TagSize && key.TryDecrypt(message.Slice(0, box.Length - TagSize), box, nonce);
}

/// <summary>
/// One sender's nonces: a direction, a random session, a counter and the wall clock, never going backwards within the
/// session (a clock stepped back repeats its last value; one stepped forward, by NTP or after a suspend, is followed).
/// Not thread-safe: one per owner thread.
/// </summary>
internal sealed class NonceSequence
{
    private readonly ulong _prefix;
    private long _lastUnixMs;
    private ulong _counter;

    public NonceSequence(byte direction)
    {
        Span<byte> session = stackalloc byte[8];
        RandomNumberGenerator.Fill(session);
        session[0] = direction;
        _prefix = BinaryPrimitives.ReadUInt64LittleEndian(session);
    }

    public void Next(Span<byte> nonce)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(nonce, _prefix);
        BinaryPrimitives.WriteUInt64LittleEndian(nonce.Slice(8), ++_counter);
        _lastUnixMs = Math.Max(_lastUnixMs, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        BinaryPrimitives.WriteInt64LittleEndian(nonce.Slice(16), _lastUnixMs);
    }
}
