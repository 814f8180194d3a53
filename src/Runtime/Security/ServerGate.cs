using System;
using System.Buffers;
using System.Collections.Generic;
using System.Diagnostics;
using System.Security.Cryptography;
using NaCl;
using TypedZmq.Protocol;

namespace TypedZmq.Security;

/// <summary>
/// A server's half of secure mode: decides whether a sealed request's client key may call, opens the request,
/// refuses replays, and seals the replies for the caller. One per server, used only by its loop thread.
/// </summary>
internal sealed class ServerGate : IDisposable
{
    /// <summary>What a refused client is told: nothing about the services behind the server.</summary>
    public const string NotAllowed =
        "this server serves only sealed requests from allowed client keys (secure mode); the request was not run. " +
        "Configure RpcClientOptions.Security with a client key the server allows and the server's public key";

    private const int MaxCachedBoxes = 4096;

    private readonly RpcServerSecurity _security;
    private readonly byte[] _serverKey;
    private readonly ReplayGuard _replays;
    private readonly NonceSequence _nonces = new(Sealing.ReplyDirection);
    private readonly Dictionary<RpcPublicKey, Client> _clients = new();
    private readonly PayloadBuffer _plain = new();

    // The server's clock for freshness: wall time at start plus a monotonic stopwatch, so that a wall clock stepped
    // back or forward while the server runs cannot make old requests fresh again or forget live sessions early.
    private readonly long _startedUnixMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
    private readonly long _startedTicks = Stopwatch.GetTimestamp();

    public ServerGate(RpcServerSecurity security)
    {
        _security = security;
        _serverKey = security.ServerKey.PublicKey.ToByteArray();
        _replays = new ReplayGuard(security.ReplayWindow, security.MaxReplaySessions, _startedUnixMs);
    }

    /// <summary>Sessions remembered against replays (for tests and metrics).</summary>
    public int ReplaySessions => _replays.Count;

    private long NowUnixMs => _startedUnixMs + (long)Stopwatch.GetElapsedTime(_startedTicks).TotalMilliseconds;

    /// <summary>
    /// Whether a request may wait in a queue: it is sealed by a key the server allows. (Whether it opens is seen when it
    /// runs; this keeps requests from unknown keys from taking queue space from allowed clients.)
    /// </summary>
    public bool MayQueue(ReadOnlySpan<byte> frame)
    {
        if (frame.Length < Sealing.RequestOverhead || frame[2] != (byte)MessageKind.SealedRequest)
        {
            return false;
        }

        ReadOnlySpan<byte> key = frame.Slice(RpcHeader.Size, Sealing.KeySize);
        return Sealing.IsCanonical(key) && NameOf(RpcPublicKey.FromBytes(key), out _) is not null;
    }

    /// <summary>
    /// Authenticates a sealed request and opens it into a buffer rented from the shared pool (the caller returns it);
    /// the plain request is <paramref name="length"/> bytes from offset <see cref="Sealing.KeySize"/>. On failure says
    /// which status to answer with and why, in words that reveal nothing about the services; <paramref name="client"/>
    /// is set when the request was authentic (a replay, a stale request), so the refusal can be sealed.
    /// </summary>
    public bool TryOpen(ReadOnlySpan<byte> frame, out Client? client, out byte[]? plain, out int length, out RpcStatus status, out string? error)
    {
        client = null;
        plain = null;
        length = 0;
        status = RpcStatus.Unauthenticated;
        if (frame.Length < Sealing.RequestOverhead)
        {
            status = RpcStatus.BadRequest;
            error = $"a sealed request is at least {Sealing.RequestOverhead} bytes (header, client key, nonce, tag, server key), this one is {frame.Length}";
            return false;
        }

        ReadOnlySpan<byte> keyBytes = frame.Slice(RpcHeader.Size, Sealing.KeySize);
        if (!Sealing.IsCanonical(keyBytes))
        {
            error = NotAllowed; // another encoding of some key: never allowed, whatever the key
            return false;
        }

        RpcPublicKey key = RpcPublicKey.FromBytes(keyBytes);
        string? name = NameOf(key, out error);
        if (name is null)
        {
            return false;
        }

        Client? known = ClientFor(key, name);
        if (known is null)
        {
            error = "the client key is not a usable X25519 public key; the request was not run";
            return false;
        }

        ReadOnlySpan<byte> nonce = frame.Slice(RpcHeader.Size + Sealing.KeySize, Sealing.NonceSize);
        ReadOnlySpan<byte> box = frame.Slice(RpcHeader.Size + Sealing.KeySize + Sealing.NonceSize);
        int opened = box.Length - Sealing.TagSize;
        plain = ArrayPool<byte>.Shared.Rent(opened);
        if (nonce[0] != Sealing.RequestDirection || !Sealing.TryOpen(known.Box, nonce, box, plain) ||
            !CryptographicOperations.FixedTimeEquals(plain.AsSpan(0, Sealing.KeySize), _serverKey))
        {
            error = "the request failed authentication (it was changed on the way, or sealed for another server key); it was not run";
            Return(ref plain);
            return false;
        }

        // From here the request is authentic: a refusal is sealed for its sender.
        client = known;
        long now = NowUnixMs;
        long sealedAt = Sealing.ReadTimestamp(nonce);
        switch (_replays.Check(key, Sealing.ReadSession(nonce), Sealing.ReadCounter(nonce), sealedAt, now))
        {
            case ReplayGuard.Verdict.Fresh:
                length = opened - Sealing.KeySize;
                error = null;
                return true;
            case ReplayGuard.Verdict.Replayed:
                error = "the request was seen before (a replay, or a duplicate on the way); it was not run again";
                break;
            case ReplayGuard.Verdict.OutsideWindow:
                error = $"the request was sealed at {sealedAt} (Unix ms) but the server's clock says {now}, more than the replay window " +
                        $"({_security.ReplayWindow.TotalSeconds:0} s) apart; it was not run. Client and server clocks must agree (NTP)";
                break;
            case ReplayGuard.Verdict.BeforeStart:
                status = RpcStatus.Unavailable;
                error = "the request was sealed before this server started (it restarted, or the client's clock is behind); it was not run. Send it again";
                break;
            default:
                status = RpcStatus.ResourceExhausted;
                error = "the server has no room to remember another client session against replays (for this key, or in all); " +
                        "the request was not run. Retry later, with fewer client channels per key";
                break;
        }

        Return(ref plain);
        return false;
    }

    /// <summary>Writes the sealed form of the reply <paramref name="header"/> + <paramref name="payload"/> for <paramref name="client"/>.</summary>
    /// <returns>The outer header; the frame's body (nonce and box) is in <paramref name="body"/>.</returns>
    public RpcHeader Seal(Client client, in RpcHeader header, ReadOnlySpan<byte> payload, PayloadBuffer body)
    {
        int length = Sealing.KeySize + RpcHeader.Size + payload.Length;
        _plain.Reset();
        Span<byte> plain = _plain.GetSpan(length);
        client.Key.Span.CopyTo(plain); // the recipient: this reply is for this client only
        header.Write(plain.Slice(Sealing.KeySize));
        payload.CopyTo(plain.Slice(Sealing.KeySize + RpcHeader.Size));

        body.Reset();
        Span<byte> sealedBody = body.GetSpan(Sealing.NonceSize + Sealing.TagSize + length);
        Span<byte> nonce = sealedBody.Slice(0, Sealing.NonceSize);
        _nonces.Next(nonce);
        Sealing.Seal(client.Box, nonce, plain.Slice(0, length), sealedBody.Slice(Sealing.NonceSize));
        body.Advance(Sealing.NonceSize + Sealing.TagSize + length);
        return new RpcHeader(MessageKind.SealedReply, RpcStatus.Ok, header.RequestId, 0, 0, 0);
    }

    public void Dispose()
    {
        foreach (Client client in _clients.Values)
        {
            client.Box.Dispose();
        }

        _clients.Clear();
    }

    private static void Return(ref byte[]? plain)
    {
        if (plain is not null)
        {
            ArrayPool<byte>.Shared.Return(plain, clearArray: true);
            plain = null;
        }
    }

    /// <summary>The allow-list's name for the key, or the Authorize callback's (which sees keys nobody has proven yet).</summary>
    private string? NameOf(RpcPublicKey key, out string? error)
    {
        error = NotAllowed;
        try
        {
            return _security.NameOf(key);
        }
        catch (Exception)
        {
            // The user's Authorize callback failed: refuse (fail closed) rather than let it end the server's loop.
            error = NotAllowed + " (the server could not decide about this key)";
            return null;
        }
    }

    private Client? ClientFor(RpcPublicKey key, string name)
    {
        if (_clients.TryGetValue(key, out Client? known))
        {
            if (known.Name != name)
            {
                known = known with { Name = name }; // renamed on the allow-list
                _clients[key] = known;
            }

            return known;
        }

        // One Diffie-Hellman per allowed key, kept. The bound only matters with an Authorize callback that allows many
        // keys; entries are dropped, not disposed, since calls in flight still seal their replies with them.
        Curve25519XSalsa20Poly1305? box = Sealing.TryCreateBox(_security.ServerKey.SecretKey, key.Span);
        if (box is null)
        {
            return null;
        }

        if (_clients.Count >= MaxCachedBoxes)
        {
            _clients.Clear();
        }

        var client = new Client(key, name, box);
        _clients.Add(key, client);
        return client;
    }

    /// <summary>An allowed client key: its name and the box shared with it.</summary>
    internal sealed record Client(RpcPublicKey Key, string Name, Curve25519XSalsa20Poly1305 Box);
}
