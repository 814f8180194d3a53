using System;
using System.Text;
using System.Threading;

namespace TypedZmq;

/// <summary>
/// Per-call settings for the TypedZmq calls made inside a scope on the same logical flow (they follow
/// <see langword="await"/> like <see cref="AsyncLocal{T}"/>): a timeout, metadata. A generated proxy implements the
/// contract's own interface, so per-call options cannot be extra method parameters (as gRPC's <c>CallOptions</c> are);
/// an ambient scope, like <c>Activity</c> or <c>TransactionScope</c>, sets them without touching the contract.
/// </summary>
/// <remarks>Scopes nest: an inner scope adds its metadata to the outer one's and may override its timeout.</remarks>
/// <example>
/// <code>
/// using (RpcCall.WithTimeout(TimeSpan.FromMilliseconds(200)))
/// using (RpcCall.WithMetadata("x-tenant", "acme"))
/// {
///     greeter.SayHello("quick");   // carries x-tenant; fails with RpcStatus.DeadlineExceeded after 200 ms without a reply
/// }
/// </code>
/// </example>
public static class RpcCall
{
    private static readonly AsyncLocal<Settings?> s_current = new();

    /// <summary>
    /// Overrides the client's <see cref="RpcClientOptions.Timeout"/> for calls made until the returned scope is disposed.
    /// </summary>
    /// <param name="timeout">How long each call may wait for its reply; <see cref="Timeout.InfiniteTimeSpan"/> for no limit.</param>
    /// <returns>A scope that restores the previous settings when disposed.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative or zero (and not infinite).</exception>
    public static RpcCallScope WithTimeout(TimeSpan timeout)
    {
        RpcClientOptions.ValidateTimeout(timeout, nameof(timeout));
        Settings? previous = s_current.Value;
        s_current.Value = new Settings(timeout, previous?.Metadata ?? []);
        return new RpcCallScope(previous);
    }

    /// <summary>Sends a metadata entry with every call made until the returned scope is disposed.</summary>
    /// <param name="key">The key: printable ASCII, no spaces, 1 to 255 characters (see <see cref="RpcMetadata"/>).</param>
    /// <param name="value">The value, sent as UTF-8.</param>
    /// <returns>A scope that restores the previous settings when disposed.</returns>
    /// <exception cref="ArgumentException"><paramref name="key"/> is not a valid metadata key.</exception>
    public static RpcCallScope WithMetadata(string key, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return WithMetadata(key, Encoding.UTF8.GetBytes(value));
    }

    /// <summary>Sends a binary metadata entry with every call made until the returned scope is disposed.</summary>
    /// <param name="key">The key: printable ASCII, no spaces, 1 to 255 characters (see <see cref="RpcMetadata"/>).</param>
    /// <param name="value">The value; the scope keeps this array, so do not change it afterwards.</param>
    /// <returns>A scope that restores the previous settings when disposed.</returns>
    /// <exception cref="ArgumentException"><paramref name="key"/> is not a valid metadata key.</exception>
    public static RpcCallScope WithMetadata(string key, byte[] value)
    {
        ArgumentNullException.ThrowIfNull(value);
        RpcMetadata.ValidateKey(key);
        Settings? previous = s_current.Value;
        s_current.Value = new Settings(previous?.Timeout, [.. previous?.Metadata ?? [], new RpcMetadataEntry(key, value)]);
        return new RpcCallScope(previous);
    }

    internal static Settings? Current => s_current.Value;

    internal static void Restore(Settings? previous) => s_current.Value = previous;

    /// <summary>What the scopes in force say; immutable, so a scope can hand it on to calls it starts.</summary>
    internal sealed class Settings
    {
        public Settings(TimeSpan? timeout, RpcMetadataEntry[] metadata)
        {
            Timeout = timeout;
            Metadata = metadata;
        }

        public TimeSpan? Timeout { get; }

        public RpcMetadataEntry[] Metadata { get; }
    }
}

/// <summary>A scope created by <see cref="RpcCall"/>; dispose it to restore the previous settings.</summary>
public readonly struct RpcCallScope : IDisposable
{
    private readonly RpcCall.Settings? _previous;

    internal RpcCallScope(RpcCall.Settings? previous) => _previous = previous;

    /// <summary>Restores the settings that were in force before this scope.</summary>
    public void Dispose() => RpcCall.Restore(_previous);
}
