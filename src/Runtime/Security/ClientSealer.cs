using System;
using System.Buffers;
using System.Security.Cryptography;
using NaCl;
using TypedZmq.Protocol;

namespace TypedZmq.Security;

/// <summary>
/// A client channel's half of secure mode: seals each request for the pinned server key and opens each reply, refusing
/// any that the server did not seal. One per channel, used only by the thread that owns the channel's socket.
/// </summary>
internal sealed class ClientSealer : IDisposable
{
    private readonly byte[] _clientKey;
    private readonly byte[] _serverKey;
    private readonly Curve25519XSalsa20Poly1305 _box;
    private readonly NonceSequence _nonces = new(Sealing.RequestDirection);
    private readonly PayloadBuffer _plain = new();
    private readonly PayloadBuffer _refusal = new();
    private byte[] _opened = Array.Empty<byte>();

    public ClientSealer(RpcClientSecurity security)
    {
        _clientKey = security.ClientKey.PublicKey.ToByteArray();
        _serverKey = security.ServerKey.ToByteArray();
        _box = Sealing.TryCreateBox(security.ClientKey.SecretKey, _serverKey)
            ?? throw new ArgumentException(
                $"The pinned server key {security.ServerKey} is not a usable X25519 public key (it is of low order). " +
                "Pin the public key from the server's certificate.");
    }

    /// <summary>The size of the sealed frame that carries a plain message of <paramref name="messageLength"/> bytes.</summary>
    public static int SealedSize(int messageLength) => Sealing.RequestOverhead + messageLength;

    /// <summary>
    /// A scratch buffer for what <see cref="Seal"/> seals: the server's key (the recipient) is in it already; write the
    /// plain message after it.
    /// </summary>
    public PayloadBuffer BeginPlain()
    {
        _plain.Reset();
        _serverKey.CopyTo(_plain.GetSpan(Sealing.KeySize));
        _plain.Advance(Sealing.KeySize);
        return _plain;
    }

    /// <summary>Writes the sealed request frame for what <see cref="BeginPlain"/>'s buffer holds into <paramref name="frame"/>.</summary>
    public void Seal(ulong requestId, bool cancel, Span<byte> frame, uint batchesWelcome = 0)
    {
        // A sealed cancel says so outside the seal (flag bit 1), so that a busy server reads it before its queue; it is
        // only a hint: what the sealed message is decides what the server does. So is the batches-welcome bit.
        new RpcHeader(MessageKind.SealedRequest, RpcStatus.Ok, requestId, 0, 0, 0, (cancel ? RpcHeader.SealedCancelFlag : 0) | batchesWelcome).Write(frame);
        _clientKey.CopyTo(frame.Slice(RpcHeader.Size));
        Span<byte> nonce = frame.Slice(RpcHeader.Size + Sealing.KeySize, Sealing.NonceSize);
        _nonces.Next(nonce);
        Sealing.Seal(_box, nonce, _plain.WrittenSpan, frame.Slice(RpcHeader.Size + Sealing.KeySize + Sealing.NonceSize));
    }

    /// <summary>
    /// The plain reply inside <paramref name="frame"/> (whose outer header is <paramref name="outer"/>): its header and
    /// payload, valid until the next call. An unsealed error passes only with a status the server sends before it can
    /// open a request (it proves nothing, so it can only fail a call, and its text is all it carries); anything else
    /// unsealed, or sealed but not by the pinned server for this client, is refused.
    /// </summary>
    /// <returns>Null when the reply can be read; otherwise why not.</returns>
    public string? Open(ReadOnlySpan<byte> frame, RpcHeader outer, out RpcHeader header, out ReadOnlySpan<byte> payload)
    {
        header = outer;
        payload = frame.Slice(RpcHeader.Size);
        switch (outer.Kind)
        {
            case MessageKind.Error when SentUnsealed(outer.Status):
                // Only the text goes on, marked as unproven; an exception type or stack trace from it would be a forgery's.
                header = new RpcHeader(MessageKind.Error, outer.Status, outer.RequestId, 0, 0, 0);
                PayloadCodec.TryReadError(payload, out _, out string? message, out _);
                _refusal.Reset();
                PayloadCodec.WriteError(_refusal, null, (message ?? "no reason given") + " (This refusal was not sealed: the server could not open the request.)", null);
                payload = _refusal.WrittenSpan;
                return null;
            case MessageKind.SealedReply:
                break;
            default:
                return "the server answered without sealing its reply, so it is not proven to come from the pinned server key: " +
                       "the server does not run in secure mode, or something else answered in its place. The answer was not accepted";
        }

        if (frame.Length < Sealing.ReplyOverhead)
        {
            return "the sealed reply is too short to be one";
        }

        ReadOnlySpan<byte> nonce = frame.Slice(RpcHeader.Size, Sealing.NonceSize);
        ReadOnlySpan<byte> box = frame.Slice(RpcHeader.Size + Sealing.NonceSize);
        int length = box.Length - Sealing.TagSize;
        if (_opened.Length < length)
        {
            if (_opened.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(_opened, clearArray: true);
            }

            _opened = ArrayPool<byte>.Shared.Rent(length);
        }

        if (nonce[0] != Sealing.ReplyDirection || !Sealing.TryOpen(_box, nonce, box, _opened) ||
            !CryptographicOperations.FixedTimeEquals(_opened.AsSpan(0, Sealing.KeySize), _clientKey))
        {
            return "the reply failed authentication: it was not sealed by the pinned server key for this client, or it was changed on the way. " +
                   "Check that the client pins the public key of the server it calls";
        }

        ReadOnlySpan<byte> plain = _opened.AsSpan(Sealing.KeySize, length - Sealing.KeySize);
        if (RpcHeader.TryParse(plain, out header, out _) != HeaderParseResult.Ok ||
            header.Kind is not (MessageKind.Reply or MessageKind.Error) ||
            header.RequestId != outer.RequestId)
        {
            header = outer;
            return "the sealed reply does not hold a reply to this request";
        }

        payload = plain.Slice(RpcHeader.Size);
        return null;
    }

    public void Dispose()
    {
        _box.Dispose();
        if (_opened.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_opened, clearArray: true);
            _opened = Array.Empty<byte>();
        }
    }

    /// <summary>The statuses a server in secure mode answers with before it has opened a request (docs/protocol.md).</summary>
    private static bool SentUnsealed(RpcStatus status) =>
        status is RpcStatus.Unauthenticated or RpcStatus.BadRequest or RpcStatus.UnsupportedVersion or RpcStatus.Unavailable or RpcStatus.ResourceExhausted;
}
