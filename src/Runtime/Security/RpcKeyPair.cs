using System;
using System.IO;
using System.Security.Cryptography;
using NaCl;
using TypedZmq.Security;

namespace TypedZmq;

/// <summary>
/// A server's or a client's key pair for secure mode: an X25519 secret key and its public key, in the same form as
/// ZeroMQ's CURVE certificates (Z85 text). Generate one with <see cref="Generate"/> (or the key tool in
/// <c>samples/KeyTool</c>); load it with <see cref="Load"/>. The secret key never appears in <see cref="ToString"/>,
/// exception messages or logs.
/// </summary>
public sealed class RpcKeyPair
{
    private readonly byte[] _secret;

    private RpcKeyPair(byte[] secret)
    {
        if (CryptographicOperations.FixedTimeEquals(secret, new byte[RpcPublicKey.Length]))
        {
            throw new ArgumentException("A secret key of all zeros is not a key: generate one with RpcKeyPair.Generate.");
        }

        _secret = secret;
        var publicKey = new byte[RpcPublicKey.Length];
        Curve25519.ScalarMultiplicationBase(publicKey, secret);
        PublicKey = RpcPublicKey.FromBytes(publicKey);
    }

    /// <summary>The public key: what servers allow and clients pin.</summary>
    public RpcPublicKey PublicKey { get; }

    internal ReadOnlySpan<byte> SecretKey => _secret;

    /// <summary>A new random key pair.</summary>
    /// <returns>The key pair.</returns>
    public static RpcKeyPair Generate() => new(RandomNumberGenerator.GetBytes(RpcPublicKey.Length));

    /// <summary>The key pair of a secret key given as 40 characters of Z85 text; the public key is derived from it.</summary>
    /// <param name="secretKeyZ85">The secret key.</param>
    /// <returns>The key pair.</returns>
    public static RpcKeyPair FromSecretKey(string secretKeyZ85)
    {
        ArgumentNullException.ThrowIfNull(secretKeyZ85);
        var secret = new byte[RpcPublicKey.Length];
        return Z85.TryDecode(secretKeyZ85.AsSpan().Trim(), secret)
            ? new RpcKeyPair(secret)
            : throw new FormatException("The secret key is not 40 characters of Z85 text (its value is not shown).");
    }

    /// <summary>
    /// The key pair of a public and a secret key given as Z85 text, checked to belong together (NetMQ's two-key
    /// certificate does not check, so a mismatched pair there fails only at the first handshake).
    /// </summary>
    /// <param name="publicKeyZ85">The public key.</param>
    /// <param name="secretKeyZ85">The secret key.</param>
    /// <returns>The key pair.</returns>
    /// <exception cref="ArgumentException">The public key is not the secret key's.</exception>
    public static RpcKeyPair FromKeys(string publicKeyZ85, string secretKeyZ85)
    {
        RpcKeyPair pair = FromSecretKey(secretKeyZ85);
        // Neither given text is shown: if the two were swapped, the "public key" is the secret one.
        return RpcPublicKey.TryParse(publicKeyZ85, out RpcPublicKey? stated) && pair.PublicKey.Equals(stated)
            ? pair
            : throw new ArgumentException(
                $"The public key given does not belong to the secret key given with it (whose public key is {pair.PublicKey}). " +
                "Check that both come from the same certificate, and that they are not swapped.");
    }

    /// <summary>
    /// Reads a key pair from a secret certificate file (ZeroMQ's format, as <see cref="Save"/> and ZeroMQ's zcert write
    /// it: a <c>curve</c> section with <c>secret-key</c> and <c>public-key</c> lines). The public key is checked to
    /// belong to the secret key. (A bare 40-character file is refused: it cannot be told apart from a public key file
    /// given by mistake. Use <see cref="FromSecretKey"/> for a key kept elsewhere.)
    /// </summary>
    /// <param name="path">The file.</param>
    /// <returns>The key pair.</returns>
    public static RpcKeyPair Load(string path)
    {
        string text = File.ReadAllText(path);
        string? secret = KeyFiles.Find(text, "secret-key");
        string? stated = KeyFiles.Find(text, "public-key");
        if (secret is null)
        {
            throw new FormatException(stated is not null
                ? $"{path} is a public certificate: it has no secret-key line. Load the secret certificate (name.key_secret)."
                : $"{path} is not a secret certificate: it has no curve section with a secret-key line.");
        }

        try
        {
            return stated is null ? FromSecretKey(secret) : FromKeys(stated, secret);
        }
        catch (FormatException ex)
        {
            throw new FormatException($"{path}: {ex.Message}", ex);
        }
        catch (ArgumentException ex)
        {
            throw new ArgumentException($"{path}: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Writes the pair to a secret certificate file (ZeroMQ's format, readable by <see cref="Load"/>); on Unix only
    /// its owner may read it. Give others the public certificate (<see cref="RpcPublicKey.Save"/>), never this file.
    /// </summary>
    /// <param name="path">The file to write (replaced if it exists).</param>
    /// <param name="name">An optional name recorded in the certificate's metadata.</param>
    public void Save(string path, string? name = null)
    {
        string text = KeyFiles.Certificate(PublicKey, Z85.Encode(_secret), name);

        // Created owner-only before a byte is written; an existing file is removed first, so that nobody who could
        // read it (or holds it open) can read the new secret.
        File.Delete(path);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var writer = new StreamWriter(path, new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: false), options);
        writer.Write(text);
    }

    /// <summary>The secret key as 40 characters of Z85 text. Keep it secret: anyone who has it can act as this key's owner.</summary>
    /// <returns>The secret key.</returns>
    public string ExportSecretKey() => Z85.Encode(_secret);

    /// <summary>Names the pair by its public key; the secret key is never shown.</summary>
    /// <returns>The text.</returns>
    public override string ToString() => $"key pair with public key {PublicKey}";
}
