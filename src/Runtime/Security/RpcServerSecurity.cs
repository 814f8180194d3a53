using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using TypedZmq.Security;

namespace TypedZmq;

/// <summary>
/// Secure mode for a server (<see cref="RpcServerOptions.Security"/>): the server's key pair and who may call it.
/// With it on, the server serves only requests sealed by an allowed client key: anything else is refused with
/// <see cref="RpcStatus.Unauthenticated"/> before any service or method is looked at, and replies are sealed for the
/// caller. Clients may be allowed and removed while the server runs. See docs/security.md.
/// </summary>
public sealed class RpcServerSecurity
{
    private readonly ConcurrentDictionary<RpcPublicKey, string> _allowed = new();
    private readonly IReadOnlyDictionary<RpcPublicKey, string> _allowedView;
    private TimeSpan _replayWindow = TimeSpan.FromMinutes(5);
    private int _maxReplaySessions = 100_000;

    /// <summary>Secure mode with this server key pair and, to begin with, no allowed client.</summary>
    /// <param name="serverKey">The server's key pair; clients pin its public key.</param>
    public RpcServerSecurity(RpcKeyPair serverKey)
    {
        ServerKey = serverKey ?? throw new ArgumentNullException(nameof(serverKey));
        _allowedView = new System.Collections.ObjectModel.ReadOnlyDictionary<RpcPublicKey, string>(_allowed);
    }

    /// <summary>The server's key pair.</summary>
    public RpcKeyPair ServerKey { get; }

    /// <summary>
    /// Decides about a client key that is not on the allow-list, for every request it sends: return the name to know
    /// the caller by, or null to refuse it (like pyzmq's CURVE callback). Keys on the allow-list never reach it. It runs
    /// on the server's socket thread before the request is authenticated, so anyone can make it run with any key:
    /// keep it fast and free of side effects (a lookup in a set, not a call to a remote directory). If it throws, the
    /// key is refused.
    /// </summary>
    public Func<RpcPublicKey, string?>? Authorize { get; init; }

    /// <summary>
    /// How far a request's seal time may differ from the server's clock, and so how long the server remembers what it
    /// has seen to refuse a replay. Older requests are refused, so a captured request can never be replayed: within
    /// the window the server remembers it, after it the request is too old. Client and server clocks must agree within
    /// it (NTP). Default 5 minutes.
    /// </summary>
    public TimeSpan ReplayWindow
    {
        get => _replayWindow;
        init => _replayWindow = value >= TimeSpan.FromSeconds(1) ? value : throw new ArgumentOutOfRangeException(nameof(ReplayWindow), value, "At least one second.");
    }

    /// <summary>
    /// How many client sessions (one per client channel) the server remembers within <see cref="ReplayWindow"/>.
    /// When it is full, requests from new sessions are refused with <see cref="RpcStatus.ResourceExhausted"/> until
    /// older ones expire; it never forgets a live session early, since that would let its requests be replayed. One
    /// client key may hold at most a tenth of it, so that one key cannot lock out the others. Default 100,000 (each holds a
    /// 128-byte window, plus its dictionary entry).
    /// </summary>
    public int MaxReplaySessions
    {
        get => _maxReplaySessions;
        init => _maxReplaySessions = value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(MaxReplaySessions), value, "Must be positive.");
    }

    /// <summary>The keys on the allow-list, with their names.</summary>
    public IReadOnlyDictionary<RpcPublicKey, string> AllowedClients => _allowedView;

    /// <summary>
    /// Allows a client key, known by <paramref name="name"/> (shown as <see cref="RpcPeer.Identity"/>). Takes effect for
    /// the next request, also while the server runs.
    /// </summary>
    /// <param name="clientKey">The client's public key.</param>
    /// <param name="name">A name for the client (for authorization and logs).</param>
    /// <returns>This object, to allow several in a row.</returns>
    /// <exception cref="ArgumentException">The key is not a usable X25519 public key.</exception>
    public RpcServerSecurity AllowClient(RpcPublicKey clientKey, string name)
    {
        ArgumentNullException.ThrowIfNull(clientKey);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        using (Sealing.TryCreateBox(ServerKey.SecretKey, clientKey.Span) ?? throw new ArgumentException(
            $"The client key {clientKey} ({name}) is not a usable X25519 public key (it is of low order).", nameof(clientKey)))
        {
        }

        _allowed[clientKey] = name;
        return this;
    }

    /// <summary>Removes a client key from the allow-list: its next request is refused (revocation).</summary>
    /// <param name="clientKey">The client's public key.</param>
    /// <returns>Whether the key was on the list.</returns>
    public bool RemoveClient(RpcPublicKey clientKey) => _allowed.TryRemove(clientKey, out _);

    /// <summary>The name of an allowed key, or null when the key may not call.</summary>
    internal string? NameOf(RpcPublicKey clientKey) =>
        _allowed.TryGetValue(clientKey, out string? name) ? name : Authorize?.Invoke(clientKey);
}
