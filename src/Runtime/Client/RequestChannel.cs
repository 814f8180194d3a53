using System;
using System.Threading;
using System.Threading.Tasks;
using NetMQ;
using NetMQ.Sockets;
using TypedZmq.Diagnostics;
using TypedZmq.Internal;
using TypedZmq.Protocol;
using TypedZmq.Security;

namespace TypedZmq.Client;

/// <summary>
/// The simple client channel: one <see cref="RequestSocket"/>, one call at a time. Synchronous calls do the exchange
/// on the calling thread (no thread hop); asynchronous ones on a thread-pool thread. Callers queue on a gate, so the
/// socket is never used by two threads at once.
/// </summary>
/// <remarks>
/// A REQ socket whose reply never came is stuck in its send/receive state machine. After a timeout or a cancellation
/// the channel closes it with zero linger and opens a fresh one (the ZeroMQ guide's Lazy Pirate), so the next call
/// works; a late reply to the old socket is discarded with it.
/// </remarks>
internal sealed class RequestChannel : RpcChannel, IDisposable
{
    // How often a waiting call looks at its cancellation token and at Dispose. A reply wakes it at once regardless.
    private static readonly TimeSpan WaitSlice = TimeSpan.FromMilliseconds(20);

    private readonly RpcClientOptions _options;
    private readonly string[] _endpoints;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly ClientSealer? _sealer; // secure mode; used by whoever holds the gate
    private RequestSocket? _socket;

    // Whoever holds the gate: the buffer of the last request that got a reply (so NetMQ is done with it), reused for the
    // next, so that a call allocates no request buffer. A request that got no reply takes its buffer with it.
    private byte[]? _sendBuffer;
    private const int MaxKeptSendBuffer = 1 << 20;
    private volatile bool _disposed;

    public RequestChannel(RpcClientOptions options)
        : base(options)
    {
        _options = options;
        _endpoints = options.Endpoints;
        _sealer = options.Security is { } security ? new ClientSealer(security) : null;

        // Connect now so that a malformed endpoint fails in the constructor, not on the first call. An inproc endpoint
        // must be bound before anyone connects; if its server is not up yet, connect on the first call instead.
        try
        {
            _socket = CreateSocket();
        }
        catch (EndpointNotFoundException)
        {
            _socket = null;
        }
    }

    /// <inheritdoc/>
    internal override string? StreamsUnsupported => _endpoints.Length > 1
        ? "a stream's pulls must reach the server that opened it, and a REQ socket deals each request to the next of its " +
          $"{_endpoints.Length} endpoints: use the multiplexed channel (RpcChannelKind.Multiplexed) for streams across several servers."
        : null;

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;

        // Whoever holds the gate owns the socket. If a call is in flight it sees _disposed within one wait slice,
        // fails, and closes the socket on its way out (see ReleaseGate); otherwise close it here.
        if (_gate.Wait(0))
        {
            CloseSocket();
            _sealer?.Dispose();
            _gate.Release();
        }
    }

    private protected override TResult InvokeCore<TResult>(RpcRequest request, CancellationToken cancellationToken)
    {
        // The synchronous path never awaits, so the value task is complete when it returns: the exchange ran on this thread.
        ValueTask<TResult> call = CallAsync<TResult>(request, async: false, cancellationToken);
        return call.IsCompleted ? call.Result : call.AsTask().GetAwaiter().GetResult();
    }

    private protected override Task<TResult> InvokeCoreAsync<TResult>(RpcRequest request, CancellationToken cancellationToken) =>
        CallAsync<TResult>(request, async: true, cancellationToken).AsTask();

    /// <summary>
    /// One algorithm for both paths (as dotnet/runtime's <c>HttpConnectionPool</c> does): with <paramref name="async"/>
    /// false it blocks the caller's thread and completes synchronously; with true it never blocks the caller.
    /// </summary>
    private async ValueTask<TResult> CallAsync<TResult>(RpcRequest request, bool async, CancellationToken cancellationToken)
    {
        RpcMethod method = request.Method;
        try
        {
            ThrowIfDisposed(method);
            CheckSize(request);

            // Every attempt of one call carries the same request id, so a server with a reply cache can recognise a retry.
            for (int attempt = 1; ; attempt++)
            {
                request.NoteAttempt(attempt);
                var deadline = new CallDeadline(request.Timeout);
                try
                {
                    bool entered = async
                        ? _gate.Wait(0, CancellationToken.None) || await _gate.WaitAsync(deadline.Remaining, cancellationToken).ConfigureAwait(false)
                        : _gate.Wait(deadline.Remaining, cancellationToken);
                    if (!entered)
                    {
                        throw TimedOut(method, deadline, queued: true);
                    }

                    try
                    {
                        if (!async)
                        {
                            return ExchangeLocked<TResult>(request, attempt, deadline, cancellationToken);
                        }

                        return await ExchangeOnPoolThreadAsync<TResult>(request, attempt, deadline, cancellationToken).ConfigureAwait(false);
                    }
                    finally
                    {
                        ReleaseGate();
                    }
                }
                catch (RpcException ex) when (!request.IsStreamPart && ShouldRetry(method, ex, attempt))
                {
                    CallPolicy.NoteRetry(Logger, _options, method, attempt + 1, ex.Status);
                    TimeSpan backoff = CallPolicy.Backoff(_options, attempt);
                    if (async)
                    {
                        await Task.Delay(backoff, cancellationToken).ConfigureAwait(false);
                    }
                    else if (cancellationToken.WaitHandle.WaitOne(backoff))
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                    }
                }
                catch (RpcException ex) when (attempt > 1)
                {
                    throw CallPolicy.AfterAttempts(ex, attempt);
                }
            }
        }
        finally
        {
            request.Return();
        }
    }

    /// <summary>
    /// A REQ socket can only be waited on by blocking, so an asynchronous exchange runs on a thread-pool thread: the
    /// caller's thread (a UI or request thread) is never blocked, and at most one pool thread per client waits at a time
    /// because the gate admits one call. The multiplexed channel avoids even that. (A method of its own, so that the
    /// closure is not allocated on the synchronous path.)
    /// </summary>
    private Task<TResult> ExchangeOnPoolThreadAsync<TResult>(RpcRequest request, int attempt, CallDeadline deadline, CancellationToken cancellationToken) =>
        Task.Run(() => ExchangeLocked<TResult>(request, attempt, deadline, cancellationToken), CancellationToken.None);

    private bool ShouldRetry(RpcMethod method, RpcException error, int attempt) =>
        !_disposed && CallPolicy.MayRetry(_options, method, error.Status, attempt);

    private void CheckSize(RpcRequest request)
    {
        if (CallPolicy.CheckSize(_options, request) is { } tooLarge)
        {
            throw tooLarge;
        }
    }

    private TResult ExchangeLocked<TResult>(RpcRequest request, int attempt, in CallDeadline deadline, CancellationToken cancellationToken)
    {
        RpcMethod method = request.Method;
        if (_disposed)
        {
            // This call started before Dispose and waited its turn: it is cancelled, like the call that held the socket.
            throw CallPolicy.DisposedWhileWaiting(method);
        }

        RequestSocket socket;
        try
        {
            socket = _socket ??= CreateSocket();
        }
        catch (EndpointNotFoundException)
        {
            throw new RpcException(
                RpcStatus.Unavailable,
                $"{method}: nothing is bound at {_options.Endpoint}. An inproc server must be started (bound) in this process before its clients call it.");
        }

        ulong requestId = request.RequestId;
        var header = new RpcHeader(MessageKind.Request, RpcStatus.Ok, requestId, method.ServiceId, method.MethodId, deadline.UnixMilliseconds, request.HeaderFlags(attempt));
        byte[]? buffer = TakeSendBuffer(Frames.BodySize(header, request.Metadata, request.Payload.Length, _sealer));

        // With several endpoints a send waits for a connection to come up (ZeroMQ's IMMEDIATE); with one, it is queued at
        // once. Either way it waits no longer than the attempt's deadline, watching for cancellation and Dispose.
        while (!Frames.TrySend(socket, envelope: null, delimiter: false, header, request.Metadata, request.Payload, deadline.NextWait(WaitSlice), _sealer, buffer))
        {
            if (cancellationToken.IsCancellationRequested)
            {
                CloseSocket();
                throw new OperationCanceledException($"{method} was cancelled before it could be sent; it did not run.", cancellationToken);
            }

            if (_disposed)
            {
                CloseSocket();
                throw CallPolicy.DisposedWhileWaiting(method);
            }

            if (deadline.IsExpired)
            {
                CloseSocket(); // Lazy Pirate: the next call opens a fresh socket
                throw CallPolicy.NotSent(method, _options.Endpoint, deadline.Timeout);
            }
        }

        var replyMsg = default(Msg);
        replyMsg.InitEmpty();
        try
        {
            while (!socket.TryReceive(ref replyMsg, deadline.NextWait(WaitSlice)))
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    ReplaceSocket(method, "was cancelled");
                    throw new OperationCanceledException(
                        $"{method} was cancelled while waiting for its reply; the call may still run on the server.",
                        cancellationToken);
                }

                if (_disposed)
                {
                    CloseSocket(); // Lazy Pirate: the next call opens a fresh socket
                    throw CallPolicy.DisposedWhileWaiting(method);
                }

                if (deadline.IsExpired)
                {
                    ReplaceSocket(method, "got no reply in time");
                    throw TimedOut(method, deadline, queued: false);
                }
            }

            _sendBuffer = buffer; // a reply came: the request has gone out whole, its buffer is free again

            if (replyMsg.HasMore)
            {
                Frames.DrainRemainingFrames(socket, hasMore: true);
                throw NotTypedZmq(method, "a reply of more than one frame");
            }

            ReadOnlySpan<byte> body = replyMsg.Slice();
            if (RpcHeader.TryParse(body, out RpcHeader outer, out string? error) != HeaderParseResult.Ok)
            {
                throw NotTypedZmq(method, "a reply without a valid header (" + error + ")");
            }

            RpcHeader reply = outer;
            ReadOnlySpan<byte> payload = body.Slice(RpcHeader.Size);
            if (_sealer is not null && _sealer.Open(body, outer, out reply, out payload) is { } refused)
            {
                throw new RpcException(RpcStatus.Unauthenticated, $"{method}: {refused}.");
            }

            if (reply.RequestId != requestId)
            {
                // REQ/REP matches replies to requests, so this is a server bug; never hand a caller someone else's answer.
                CloseSocket(); // Lazy Pirate: the next call opens a fresh socket
                throw new RpcException(
                    RpcStatus.Internal,
                    $"{method}: the reply is for request {reply.RequestId}, not {requestId}. The server echoed the wrong request id.");
            }

            return ReplyDecoder.Decode<TResult>(method, reply, payload);
        }
        finally
        {
            replyMsg.Close();
        }
    }

    /// <summary>The kept buffer if it is big enough (it leaves the field until a reply frees it), else a new one; null for very large requests.</summary>
    private byte[]? TakeSendBuffer(int size)
    {
        byte[]? buffer = _sendBuffer;
        _sendBuffer = null;
        if (buffer is not null && buffer.Length >= size)
        {
            return buffer;
        }

        return size > MaxKeptSendBuffer ? null : new byte[Math.Max(256, (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)size))];
    }

    private RpcException NotTypedZmq(RpcMethod method, string what) =>
        new(
            RpcStatus.Internal,
            $"{method}: {_options.Endpoint} sent {what}. The endpoint is probably not a TypedZmq server, or speaks another protocol version.");

    private RpcException TimedOut(RpcMethod method, in CallDeadline deadline, bool queued) =>
        queued
            ? new RpcException(
                RpcStatus.DeadlineExceeded,
                $"{method} did not start within {CallDeadline.Describe(deadline.Timeout)}: other calls on this RpcClient held its socket. " +
                "Raise the timeout, use more clients, or use the multiplexed channel for concurrent callers.")
            : CallPolicy.NoReply(method, _options.Endpoint, deadline.Timeout);

    private void ThrowIfDisposed(RpcMethod method)
    {
        if (_disposed)
        {
            throw CallPolicy.CalledAfterDispose(method);
        }
    }

    private void ReleaseGate()
    {
        _gate.Release();

        // Dispose may have run while this call held the gate; if so, close the socket now that nobody uses it.
        if (_disposed && _gate.Wait(0))
        {
            CloseSocket();
            _sealer?.Dispose();
            _gate.Release();
        }
    }

    /// <summary>Lazy Pirate: a REQ socket still waiting for a reply cannot send; the next call opens a fresh one.</summary>
    private void ReplaceSocket(RpcMethod method, string reason)
    {
        CloseSocket();
        Telemetry.ClientSocketReplacements.Add(1);
        Log.SocketReplaced(Logger, _options.Endpoint, method, reason);
    }

    private RequestSocket CreateSocket() => ClientSockets.Connect(new RequestSocket(), _options, _endpoints, _options.HasSeveralServers);

    private void CloseSocket()
    {
        RequestSocket? socket = _socket;
        _socket = null;
        socket?.Dispose();
    }
}
