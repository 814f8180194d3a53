using System;
using System.Threading;

namespace TypedZmq;

/// <summary>
/// Call-scoped settings that apply to every TypedZmq call made inside a scope on the same logical flow
/// (they follow <see langword="await"/> like <see cref="AsyncLocal{T}"/>), without changing the generated proxy's
/// signatures.
/// </summary>
/// <example>
/// <code>
/// using (RpcCall.WithTimeout(TimeSpan.FromMilliseconds(200)))
/// {
///     greeter.SayHello("quick");   // fails with RpcStatus.DeadlineExceeded after 200 ms without a reply
/// }
/// </code>
/// </example>
public static class RpcCall
{
    private static readonly AsyncLocal<TimeoutBox?> s_timeout = new();

    /// <summary>
    /// Overrides the client's <see cref="RpcClientOptions.Timeout"/> for calls made until the returned scope is disposed.
    /// </summary>
    /// <param name="timeout">How long each call may wait for its reply; <see cref="Timeout.InfiniteTimeSpan"/> for no limit.</param>
    /// <returns>A scope that restores the previous setting when disposed.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative or zero (and not infinite).</exception>
    public static RpcCallScope WithTimeout(TimeSpan timeout)
    {
        RpcClientOptions.ValidateTimeout(timeout, nameof(timeout));
        TimeoutBox? previous = s_timeout.Value;
        s_timeout.Value = new TimeoutBox(timeout);
        return new RpcCallScope(previous);
    }

    internal static TimeSpan? CurrentTimeout => s_timeout.Value?.Timeout;

    internal static void Restore(TimeoutBox? previous) => s_timeout.Value = previous;

    internal sealed class TimeoutBox
    {
        public TimeoutBox(TimeSpan timeout) => Timeout = timeout;

        public TimeSpan Timeout { get; }
    }
}

/// <summary>A scope created by <see cref="RpcCall.WithTimeout(TimeSpan)"/>; dispose it to restore the previous setting.</summary>
public readonly struct RpcCallScope : IDisposable
{
    private readonly RpcCall.TimeoutBox? _previous;

    internal RpcCallScope(RpcCall.TimeoutBox? previous) => _previous = previous;

    /// <summary>Restores the setting that was in force before this scope.</summary>
    public void Dispose() => RpcCall.Restore(_previous);
}
