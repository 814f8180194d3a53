using System;
using System.IO;
using System.Security.Cryptography;
using TypedZmq.Security;

namespace TypedZmq;

/// <summary>
/// The public half of a TypedZmq key pair (an X25519 key, 32 bytes), written as 40 characters of Z85 text like a
/// ZeroMQ certificate's <c>public-key</c>. Safe to share: it is what servers put in their allow-list and clients pin.
/// </summary>
public sealed class RpcPublicKey : IEquatable<RpcPublicKey>
{
    /// <summary>The length of a key in bytes.</summary>
    public const int Length = 32;

    private readonly byte[] _bytes;

    private RpcPublicKey(byte[] bytes)
    {
        _bytes = bytes;
    }

    internal ReadOnlySpan<byte> Span => _bytes;

    /// <summary>Reads a key from its 40 characters of Z85 text.</summary>
    /// <param name="z85">The key, as <see cref="ToString"/> writes it.</param>
    /// <returns>The key.</returns>
    /// <exception cref="FormatException">The text is not 40 characters of Z85.</exception>
    public static RpcPublicKey Parse(string z85)
    {
        ArgumentNullException.ThrowIfNull(z85);
        return TryParse(z85, out RpcPublicKey? key)
            ? key
            : throw new FormatException("The text is not a public key: a key is 40 characters of Z85 text (ZeroMQ's encoding) " +
                "naming a point of Curve25519 in its one canonical form. (The text is not shown, in case it was a secret key.)");
    }

    /// <summary>Reads a key from its 40 characters of Z85 text.</summary>
    /// <param name="z85">The text.</param>
    /// <param name="key">The key, when the text is one.</param>
    /// <returns>Whether the text is a key.</returns>
    public static bool TryParse(string? z85, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out RpcPublicKey? key)
    {
        key = null;
        var bytes = new byte[Length];
        if (z85 is null || !Z85.TryDecode(z85.AsSpan().Trim(), bytes) || !Sealing.IsCanonical(bytes))
        {
            return false;
        }

        key = new RpcPublicKey(bytes);
        return true;
    }

    /// <summary>A key from its 32 raw bytes.</summary>
    /// <param name="bytes">The key, in its canonical form (top bit clear, below 2^255 - 19).</param>
    /// <returns>The key.</returns>
    public static RpcPublicKey FromBytes(ReadOnlySpan<byte> bytes) =>
        Sealing.IsCanonical(bytes)
            ? new RpcPublicKey(bytes.ToArray())
            : throw new ArgumentException(
                bytes.Length == Length
                    ? "These 32 bytes are not the canonical encoding of a Curve25519 public key (top bit set, or not below 2^255 - 19)."
                    : $"A public key is {Length} bytes, not {bytes.Length}.",
                nameof(bytes));

    /// <summary>
    /// Reads the public key from a file: a ZeroMQ-style certificate (its <c>public-key = "..."</c> line; a secret
    /// certificate works too) or a file that holds just the 40 characters.
    /// </summary>
    /// <param name="path">The file.</param>
    /// <returns>The key.</returns>
    public static RpcPublicKey Load(string path)
    {
        string text = File.ReadAllText(path);
        string z85 = KeyFiles.Find(text, "public-key") ?? text.Trim();
        return TryParse(z85, out RpcPublicKey? key)
            ? key
            : throw new FormatException($"{path} holds no public key: expected a certificate with a public-key line, or 40 characters of Z85 text.");
    }

    /// <summary>Writes this key to a public certificate file, in ZeroMQ's certificate format.</summary>
    /// <param name="path">The file to write (replaced if it exists).</param>
    /// <param name="name">An optional name recorded in the certificate's metadata.</param>
    public void Save(string path, string? name = null) => File.WriteAllText(path, KeyFiles.Certificate(this, secret: null, name));

    /// <summary>The raw 32 bytes.</summary>
    /// <returns>A copy of the key.</returns>
    public byte[] ToByteArray() => (byte[])_bytes.Clone();

    /// <summary>The key as 40 characters of Z85 text.</summary>
    /// <returns>The text.</returns>
    public override string ToString() => Z85.Encode(_bytes);

    /// <inheritdoc />
    public bool Equals(RpcPublicKey? other) => other is not null && CryptographicOperations.FixedTimeEquals(_bytes, other._bytes);

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as RpcPublicKey);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        // Seeded per process: keys in the clear on the wire must not be able to collide dictionary buckets on purpose.
        var hash = default(HashCode);
        hash.AddBytes(_bytes);
        return hash.ToHashCode();
    }
}
