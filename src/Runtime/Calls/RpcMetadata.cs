using System;
using System.Collections;
using System.Collections.Generic;
using System.Text;

namespace TypedZmq;

/// <summary>
/// Key/value pairs that travel with a request beside its arguments: a trace context, a credential, a tenant. Set them on
/// the client (<see cref="RpcCall.WithMetadata(string, string)"/>, or <see cref="RpcClientContext.RequestMetadata"/> in
/// an interceptor); read them on the server (<see cref="RpcCallContext.RequestMetadata"/>).
/// </summary>
/// <remarks>
/// <para>
/// Keys are 1 to 255 printable ASCII characters without spaces, compared ordinally; lowercase by convention, like
/// HTTP/2 and gRPC. Keys that start with <c>tzmq-</c> are reserved for TypedZmq. Values are bytes; the string overloads
/// use UTF-8. A key may appear more than once. All of it, encoded, may take at most <see cref="MaxEncodedSize"/> bytes.
/// </para>
/// <para>Not thread-safe: a collection belongs to one call.</para>
/// </remarks>
public sealed class RpcMetadata : IReadOnlyList<RpcMetadataEntry>
{
    /// <summary>The most bytes a request's metadata may take on the wire (16 KiB).</summary>
    public const int MaxEncodedSize = 16 * 1024;

    private readonly List<RpcMetadataEntry> _entries;

    /// <summary>Creates an empty collection.</summary>
    public RpcMetadata()
    {
        _entries = [];
    }

    /// <summary>Creates a copy of <paramref name="other"/>.</summary>
    /// <param name="other">The entries to copy.</param>
    public RpcMetadata(IEnumerable<RpcMetadataEntry> other)
    {
        ArgumentNullException.ThrowIfNull(other);
        _entries = [.. other];
    }

    /// <summary>How many entries there are.</summary>
    public int Count => _entries.Count;

    /// <summary>The entry at <paramref name="index"/>, in the order they were added.</summary>
    /// <param name="index">The position.</param>
    public RpcMetadataEntry this[int index] => _entries[index];

    /// <summary>Adds an entry with a UTF-8 text value.</summary>
    /// <param name="key">The key: printable ASCII, no spaces, 1 to 255 characters.</param>
    /// <param name="value">The value.</param>
    /// <exception cref="ArgumentException">The key is not a valid metadata key.</exception>
    public void Add(string key, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        Add(key, Encoding.UTF8.GetBytes(value));
    }

    /// <summary>Adds an entry with a binary value.</summary>
    /// <param name="key">The key: printable ASCII, no spaces, 1 to 255 characters.</param>
    /// <param name="value">The value; the collection keeps this array, so do not change it afterwards.</param>
    /// <exception cref="ArgumentException">The key is not a valid metadata key.</exception>
    public void Add(string key, byte[] value)
    {
        ArgumentNullException.ThrowIfNull(value);
        ValidateKey(key);
        _entries.Add(new RpcMetadataEntry(key, value));
    }

    /// <summary>Replaces every entry with <paramref name="key"/> by one with <paramref name="value"/>.</summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The UTF-8 text value.</param>
    public void Set(string key, string value)
    {
        Remove(key);
        Add(key, value);
    }

    /// <summary>Removes every entry with <paramref name="key"/>.</summary>
    /// <param name="key">The key.</param>
    /// <returns>Whether there was one.</returns>
    public bool Remove(string key) => _entries.RemoveAll(e => string.Equals(e.Key, key, StringComparison.Ordinal)) > 0;

    /// <summary>The value of the first entry with <paramref name="key"/>, as UTF-8 text, or <see langword="null"/>.</summary>
    /// <param name="key">The key.</param>
    /// <returns>The text, or null when there is no such entry.</returns>
    public string? GetString(string key) => TryGetValue(key, out ReadOnlyMemory<byte> value) ? Encoding.UTF8.GetString(value.Span) : null;

    /// <summary>Finds the first entry with <paramref name="key"/>.</summary>
    /// <param name="key">The key.</param>
    /// <param name="value">Its value, when found.</param>
    /// <returns>Whether there is such an entry.</returns>
    public bool TryGetValue(string key, out ReadOnlyMemory<byte> value)
    {
        foreach (RpcMetadataEntry entry in _entries)
        {
            if (string.Equals(entry.Key, key, StringComparison.Ordinal))
            {
                value = entry.Value;
                return true;
            }
        }

        value = default;
        return false;
    }

    /// <inheritdoc />
    public IEnumerator<RpcMetadataEntry> GetEnumerator() => _entries.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Whether <paramref name="key"/> can be a metadata key: 1 to 255 printable ASCII characters, no spaces.</summary>
    /// <param name="key">The candidate.</param>
    /// <returns>True when it is valid.</returns>
    public static bool IsValidKey(string? key)
    {
        if (string.IsNullOrEmpty(key) || key.Length > 255)
        {
            return false;
        }

        foreach (char c in key)
        {
            if (c is < '!' or > '~')
            {
                return false;
            }
        }

        return true;
    }

    internal void AddDecoded(string key, byte[] value) => _entries.Add(new RpcMetadataEntry(key, value));

    internal static void ValidateKey(string key)
    {
        if (!IsValidKey(key))
        {
            throw new ArgumentException(
                $"'{key}' is not a metadata key: use 1 to 255 printable ASCII characters without spaces, for example 'x-tenant'.",
                nameof(key));
        }
    }
}

/// <summary>One metadata entry.</summary>
/// <param name="Key">The key.</param>
/// <param name="Value">The value's bytes.</param>
public readonly record struct RpcMetadataEntry(string Key, ReadOnlyMemory<byte> Value)
{
    /// <summary>The value decoded as UTF-8 text.</summary>
    public string ValueAsString => Encoding.UTF8.GetString(Value.Span);
}
