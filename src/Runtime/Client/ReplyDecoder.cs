using System;
using TypedZmq.Internal;
using TypedZmq.Protocol;

namespace TypedZmq.Client;

/// <summary>Turns a reply (header + payload) into the method's result or the <see cref="RpcException"/> it carries.</summary>
internal static class ReplyDecoder
{
    public static TResult Decode<TResult>(RpcMethod method, in RpcHeader header, ReadOnlySpan<byte> payload)
    {
        if (header.Kind == MessageKind.Error)
        {
            throw ToException(method, header.Status, payload);
        }

        if (header.Kind != MessageKind.Reply)
        {
            throw new RpcException(
                RpcStatus.Internal,
                $"{method}: the server answered with message kind {header.Kind} instead of a reply. " +
                "The endpoint is probably not a TypedZmq server.");
        }

        if (typeof(TResult) == typeof(NoResult))
        {
            if (payload.Length != 0)
            {
                throw Mismatch(method, $"the reply carries {payload.Length} bytes but the method returns nothing", null);
            }

            return default!;
        }

        if (method.ResultNeedsWalk && PayloadCheck.Check(payload, method.ResultSchemas, "result") is { } malformed)
        {
            // A reply MemoryPack must not read: from a server built from another contract, or a hostile one.
            throw Mismatch(method, "the reply is not a valid " + typeof(TResult) + ": " + malformed, null);
        }

        TResult? result;
        int offset = 0;
        try
        {
            result = PayloadCodec.ReadValue<TResult>(payload, ref offset);
        }
        catch (Exception ex)
        {
            throw Mismatch(method, $"the reply could not be decoded as {typeof(TResult)} ({ex.Message})", ex);
        }

        if (offset != payload.Length)
        {
            throw Mismatch(method, $"the reply has {payload.Length - offset} bytes left after its {typeof(TResult)} result", null);
        }

        return result!;
    }

    public static RpcException ToException(RpcMethod method, RpcStatus status, ReadOnlySpan<byte> payload)
    {
        if (!PayloadCodec.TryReadError(payload, out string? type, out string? message, out string? detail))
        {
            return new RpcException(
                status == RpcStatus.Ok ? RpcStatus.Internal : status,
                $"{method} failed with {status}; the error body could not be decoded.");
        }

        string text = status == RpcStatus.RemoteError
            ? $"{method} threw {type ?? "an exception"} on the server: {message}"
            : $"{method} failed with {status}: {message}";
        return new RpcException(status == RpcStatus.Ok ? RpcStatus.Internal : status, text, type, detail);
    }

    private static RpcException Mismatch(RpcMethod method, string what, Exception? inner) =>
        new(
            RpcStatus.Internal,
            $"{method}: {what}. The client and the server were probably built from different versions of the contract; " +
            "rebuild both from the same contracts assembly.",
            inner);
}
