using System;
using System.Buffers;
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
    private readonly Curve25519XSalsa20Poly1305 _box;
    private readonly NonceSequence _nonces = new(Sealing.RequestDirection);
    private readonly PayloadBuffer _inner = new();
    private byte[] _opened = Array.Empty<byte>();

    public ClientSealer(RpcClientSecurity security)
    {
        _clientKey = security.ClientKey.PublicKey.ToByteArray();
        _box = Sealing.TryCreateBox(security.ClientKey.SecretKey, security.ServerKey.Span)
            ?? throw new ArgumentException(
                $"The pinned server key {security.ServerKey} is not a usable X25519 public key (it is of low order). " +
                "Pin the public key from the server's certificate.");
    }

    /// <summary>A scratch buffer for the plain message that <see cref="Seal"/> then seals.</summary>
    public PayloadBuffer Inner
    {
        get
        {
            _inner.Reset();
            return _inner;
        }
    }

    public static int SealedSize(int innerLength) => Sealing.RequestOverhead + innerLength;

    /// <summary>Writes the sealed request frame for the plain message <paramref name="inner"/> into <paramref name="frame"/>.</summary>
    public void Seal(ReadOnlySpan<byte> inner, ulong requestId, Span<byte> frame)
    {
        new RpcHeader(MessageKind.SealedRequest, RpcStatus.Ok, requestId, 0, 0, 0).Write(frame);
        _clientKey.CopyTo(frame.Slice(RpcHeader.Size));
        Span<byte> nonce = frame.Slice(RpcHeader.Size + Sealing.KeySize, Sealing.NonceSize);
        _nonces.Next(nonce);
        Sealing.Seal(_box, nonce, inner, frame.Slice(RpcHeader.Size + Sealing.KeySize + Sealing.NonceSize));
    }

    /// <summary>
    /// The plain reply inside <paramref name="frame"/> (whose outer header is <paramref name="outer"/>): its header and
    /// payload, valid until the next call. An error the server sent unsealed (it refused the request before it could
    /// authenticate it) passes as it is, so its status reaches the caller; anything else unsealed, or sealed but not by
    /// the pinned server, is refused.
    /// </summary>
    /// <returns>Null when the reply can be read; otherwise why not.</returns>
    public string? Open(ReadOnlySpan<byte> frame, RpcHeader outer, out RpcHeader header, out ReadOnlySpan<byte> payload)
    {
        header = outer;
        payload = frame.Slice(RpcHeader.Size);
        switch (outer.Kind)
        {
            case MessageKind.Error:
                return null;
            case MessageKind.SealedReply:
                break;
            default:
                return "the server answered without sealing its reply, so it is not proven to come from the pinned server key: " +
                       "the server does not run in secure mode, or something else answered in its place. The result was not accepted";
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
                ArrayPool<byte>.Shared.Return(_opened);
            }

            _opened = ArrayPool<byte>.Shared.Rent(length);
        }

        if (nonce[0] != Sealing.ReplyDirection || !Sealing.TryOpen(_box, nonce, box, _opened))
        {
            return "the reply failed authentication: it was not sealed by the pinned server key, or it was changed on the way. " +
                   "Check that the client pins the public key of the server it calls";
        }

        ReadOnlySpan<byte> plain = _opened.AsSpan(0, length);
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
            ArrayPool<byte>.Shared.Return(_opened);
            _opened = Array.Empty<byte>();
        }
    }
}
