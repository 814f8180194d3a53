using System;
using Microsoft.Extensions.Logging;
using TypedZmq.Diagnostics;
using TypedZmq.Internal;
using TypedZmq.Protocol;

namespace TypedZmq.Client;

/// <summary>
/// The rules both client channels apply the same way: when a call may be retried, how long to wait before, the
/// request size limit, and the words of the errors a caller sees.
/// </summary>
internal static class CallPolicy
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Retry only what timed out or found the server unavailable, only while attempts remain, and only when running
    /// the call twice is harmless (idempotent) or prevented (the caller says the server deduplicates).
    /// </summary>
    public static bool MayRetry(RpcClientOptions options, RpcMethod method, RpcStatus status, int attempt) =>
        status is RpcStatus.DeadlineExceeded or RpcStatus.Unavailable &&
        attempt < options.MaxAttempts &&
        (method.IsIdempotent || options.RetryNonIdempotentCalls);

    /// <summary>The pause after attempt <paramref name="attempt"/>: the backoff, doubled per attempt, at most 5 s.</summary>
    public static TimeSpan Backoff(RpcClientOptions options, int attempt) =>
        TimeSpan.FromTicks(Math.Min(options.RetryBackoff.Ticks << Math.Min(attempt - 1, 16), MaxBackoff.Ticks));

    public static RpcException AfterAttempts(RpcException last, int attempts) =>
        attempts <= 1
            ? last
            : new RpcException(last.Status, last.Message + $" (Tried {attempts} times.)", last.RemoteExceptionType, last.RemoteStackTrace);

    /// <summary>
    /// An error when the request is over the client's message size limit, or its metadata over the protocol's, otherwise
    /// null: a request a server would refuse is not sent.
    /// </summary>
    public static RpcException? CheckSize(RpcClientOptions options, RpcRequest request)
    {
        int metadata = request.Metadata is { Count: > 0 } entries ? MetadataBlock.EncodedSize(entries) : 0;
        if (metadata > RpcMetadata.MaxEncodedSize)
        {
            return new RpcException(
                RpcStatus.BadRequest,
                $"{request.Method}: the request's metadata takes {metadata} bytes, over the {RpcMetadata.MaxEncodedSize} a request may carry; " +
                "it was not sent. Send fewer or shorter entries.");
        }

        long size = RpcHeader.Size + metadata + request.Payload.Length + (options.Security is null ? 0 : Security.Sealing.RequestOverhead);
        return size <= options.MaxMessageSize
            ? null
            : new RpcException(
                RpcStatus.BadRequest,
                $"{request.Method}: the request is {size} bytes, over RpcClientOptions.MaxMessageSize ({options.MaxMessageSize} bytes); " +
                "it was not sent. Send less per call, or raise the limit on both client and server.");
    }

    /// <summary>Counts and logs a retry; with several endpoints it is a failover to the next server.</summary>
    public static void NoteRetry(ILogger logger, RpcClientOptions options, RpcMethod method, int attempt, RpcStatus status)
    {
        Telemetry.ClientRetries.Add(1);
        if (!logger.IsEnabled(LogLevel.Information))
        {
            return;
        }

        if (options.Endpoints.Length > 1)
        {
            Log.FailingOver(logger, method, options.Endpoint, attempt, options.MaxAttempts, status);
        }
        else
        {
            Log.Retrying(logger, method, attempt, options.MaxAttempts, status);
        }
    }

    public static RpcException ConnectionLost(RpcMethod method, string endpoint) =>
        new(
            RpcStatus.Unavailable,
            $"{method}: the connection to {endpoint} was lost (the server closed it, or it went silent past the heartbeat timeout); " +
            "the call may have run. Calls that may be retried were sent again.");

    public static RpcException NotSent(RpcMethod method, string endpoint, TimeSpan timeout) =>
        new(
            RpcStatus.DeadlineExceeded,
            $"{method} could not be sent to {endpoint} within {CallDeadline.Describe(timeout)}: no connection to a server came up, " +
            "or the send queues stayed full (ZeroMQ's high-water mark) because the servers are not keeping up. The call did not run. " +
            "Check that a server is running at that endpoint, or lower the number of concurrent calls.");

    public static RpcException NoReply(RpcMethod method, string endpoint, TimeSpan timeout) =>
        new(
            RpcStatus.DeadlineExceeded,
            $"{method} got no reply from {endpoint} within {CallDeadline.Describe(timeout)}. " +
            "The server may be down, unreachable or slow, and the call may still have run on it. " +
            "Check that the server is running at that endpoint, or raise RpcClientOptions.Timeout / use RpcCall.WithTimeout for slow calls.");

    public static ObjectDisposedException CalledAfterDispose(RpcMethod method) =>
        new(nameof(RpcClient), $"{method} was called on a disposed RpcClient.");

    public static RpcException DisposedWhileWaiting(RpcMethod method) =>
        new(
            RpcStatus.Cancelled,
            $"{method}: the RpcClient was disposed before the call completed. If it was already sent, it may still run on the server.");
}
