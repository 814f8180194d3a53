using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TypedZmq.Diagnostics;
using TypedZmq.Internal;
using TypedZmq.Protocol;
using TypedZmq.Security;

namespace TypedZmq.Server;

/// <summary>
/// What a server does with a request, whatever its socket: the checks of docs/protocol.md in their order, each failure
/// turned into its error reply from the request's header; the reply cache; the call context and the interceptors; the
/// dispatch; and the reply. Server loops hand it what they receive and send what it answers, on their own thread.
/// </summary>
internal sealed class RequestHandler : IDisposable
{
    private readonly Dictionary<uint, RpcServiceDispatcher> _services;
    private readonly RpcServerOptions _options;
    private readonly CancellationToken _stopping;
    private readonly ReplyCache? _cache;
    private readonly RpcServerContinuation? _pipeline;
    private readonly RpcServerContinuation _observedPipeline; // the server span and metrics, then the user's interceptors
    private readonly ServerTelemetry _telemetry = new();
    private readonly ILogger _logger;
    private readonly RefusalLog _refusals;
    private readonly ServerGate? _gate;
    private readonly PayloadBuffer _errorBody = new();
    private readonly PayloadBuffer _sealedBody = new();
    private readonly Stack<ServerCall> _pool = new();
    private int _inFlight;
    private RpcPeer? _reading; // loop thread: the connection the message being read came on

    // Loop thread: calls running now, by who sent them (the client key in secure mode, else the connection) and request
    // id, so that a client's cancel reaches the call it means and no other client's.
    private readonly Dictionary<(object Owner, ulong RequestId), ServerCall> _running = new();
    private readonly ServerStreams _streams;
    private volatile bool _draining;

    public RequestHandler(Dictionary<uint, RpcServiceDispatcher> services, RpcServerOptions options, CancellationToken stopping)
    {
        _services = services;
        _options = options;
        _stopping = stopping;
        _cache = options.ReplyCacheSize > 0 ? new ReplyCache(options.ReplyCacheSize) : null;
        _pipeline = BuildPipeline(options.Interceptors);
        _observedPipeline = BuildPipeline([_telemetry, .. options.Interceptors])!;
        _logger = options.LoggerFactory?.CreateLogger(Log.ServerCategory) ?? NullLogger.Instance;
        _refusals = new RefusalLog(_logger);
        _gate = options.Security is { } security ? new ServerGate(security) : null;
        _streams = new ServerStreams(options, stopping);
    }

    /// <summary>Streams open now (for tests and diagnostics).</summary>
    public int OpenStreams => _streams.Count;

    /// <summary>Where the server is bound, for its spans and metrics.</summary>
    public void Bound(string endpoint) => _telemetry.Bound(endpoint);

    /// <summary>Wipes secure mode's keys once the loop thread has stopped.</summary>
    public void Dispose()
    {
        _streams.Dispose();
        _gate?.Dispose();
    }

    /// <summary>Calls read and not yet answered (running or completing).</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    public bool IsDraining => _draining;

    /// <summary>From now on new requests are refused with <see cref="RpcStatus.Unavailable"/>.</summary>
    public void StopAccepting()
    {
        _draining = true;
        Interlocked.MemoryBarrier(); // pairs with the increment in Begin: see there
        _streams.EndAll(); // their pulls end at once (Cancelled), and no stream opens any more
    }

    /// <summary>
    /// Loop thread: serves one request. Returns null when it is answered already (an error, a cached reply, or a call
    /// that completed at once), or the running call, whose <paramref name="pending"/> work the loop waits for before it
    /// calls <see cref="Finish"/>. The call counts as in flight from the moment it is read, so that a server stopping
    /// never mistakes a call that has just started for no call at all.
    /// </summary>
    /// <param name="message">The request frame: header, metadata, payload. Valid until this method returns.</param>
    /// <param name="frames">How many frames the message had (a request has one).</param>
    /// <param name="peer">Who sent it.</param>
    /// <param name="route">Where the reply goes (the ROUTER envelope; null on a REP socket).</param>
    /// <param name="sender">The loop's socket.</param>
    /// <param name="pending">The call's outstanding work, when it returns a call.</param>
    public ServerCall? Begin(ReadOnlyMemory<byte> message, int frames, RpcPeer peer, byte[][]? route, IReplySender sender, out ValueTask pending)
    {
        // A full fence: either Stop sees this call, or this call sees that the server is draining (StopAccepting sets
        // the flag, fences, then Stop reads the count).
        Interlocked.Increment(ref _inFlight);
        ServerCall? call = null;
        pending = default;
        _reading = peer;
        try
        {
            call = BeginCounted(message, frames, peer, route, sender, out pending);
            return call;
        }
        finally
        {
            _reading = null;
            if (call is null)
            {
                Interlocked.Decrement(ref _inFlight);
            }
        }
    }

    /// <summary>Loop thread: answers a call whose pending work has ended, with its result or its failure.</summary>
    public void Finish(ServerCall call, Exception? failure, byte[][]? route, IReplySender sender)
    {
        if (call.Owner is not null && _running.TryGetValue((call.Owner, call.Request.RequestId), out ServerCall? running) && running == call)
        {
            _running.Remove((call.Owner, call.Request.RequestId));
        }

        Answer(call, failure, route, sender);
        Interlocked.Decrement(ref _inFlight);
    }

    private void Answer(ServerCall call, Exception? failure, byte[][]? route, IReplySender sender)
    {
        RpcCallContext context = call.Context;
        if (failure is null && call.Pipeline is not null && !context.Dispatched)
        {
            failure = new RpcException(
                RpcStatus.Internal,
                "an interceptor returned without calling next or throwing an RpcException, so the call has no result.");
        }

        if (failure is null)
        {
            SendResult(call, route, sender);
        }
        else
        {
            (RpcStatus status, string? type, string text, string? detail) = ServerErrors.ForReply(failure, context, _options.IncludeExceptionDetails);
            if (status is RpcStatus.RemoteError or RpcStatus.Internal)
            {
                Log.CallFailed(_logger, context.ServiceName, context.MethodName, status, text, failure);
            }

            // A call its client cancelled (or whose connection ended) is not an outcome to give its retries: forgotten,
            // so that a retry runs.
            SendError(route, sender, call.Client, call.Request, status, text, type, detail, record: !context.CancelledByClient);
            if (context.CancelledByClient)
            {
                _cache?.Forget(call.Request.RequestId, call.Client?.Key);
            }
        }

        context.Finish(); // after the failure was described: it may have come from the call's own deadline timer
        call.Reset();
        if (_pool.Count < 256)
        {
            _pool.Push(call);
        }
    }

    /// <summary>Loop thread: refuses a request without running it (a full queue, a stopping server).</summary>
    public void Refuse(ReadOnlySpan<byte> message, RpcPeer peer, byte[][]? route, IReplySender sender, RpcStatus status, string reason)
    {
        // Unsealed even in secure mode: the request was not opened. Its outer header holds the id the client matches.
        RpcHeader.TryParse(message, out RpcHeader request, out _);
        _reading = peer;
        SendError(route, sender, client: null, request, status, reason);
        _reading = null;
    }

    /// <summary>
    /// Loop thread: whether a request may wait in the queue of a busy server. In secure mode only requests sealed by an
    /// allowed key may, so that unknown keys cannot take queue space from allowed clients.
    /// </summary>
    public bool MayQueue(ReadOnlySpan<byte> message) => _gate is null || _gate.MayQueue(message);

    /// <summary>Loop thread: answers a message that did not even carry a routable envelope (a ROUTER peer without delimiter).</summary>
    public void RefuseUnroutable(byte[][] route, IReplySender sender) =>
        SendError(route, sender, client: null, default, RpcStatus.BadRequest,
            "TypedZmq could not read this request: it has no empty delimiter frame before the header. " +
            "Use a REQ socket, or send an empty frame before the header from a DEALER; see docs/protocol.md.");

    public string DescribeServices()
    {
        if (_services.Count == 0)
        {
            return "no services";
        }

        var names = new List<string>(_services.Count);
        foreach (RpcServiceDispatcher service in _services.Values)
        {
            names.Add($"{service.ServiceName} (0x{service.ServiceId:x8})");
        }

        return string.Join(", ", names);
    }

    private ServerCall? BeginCounted(ReadOnlyMemory<byte> message, int frames, RpcPeer peer, byte[][]? route, IReplySender sender, out ValueTask pending)
    {
        pending = default;
        ReadOnlySpan<byte> bytes = message.Span;

        // Rules 1 to 4: the header.
        HeaderParseResult parsed = RpcHeader.TryParse(bytes, out RpcHeader request, out string? error);
        if (parsed != HeaderParseResult.Ok)
        {
            // Echo the request id when there is one to echo, so a multiplexing peer can match the error.
            var echo = new RpcHeader(MessageKind.Request, RpcStatus.Ok, parsed == HeaderParseResult.NotTypedZmq ? 0 : RpcHeader.PeekRequestId(bytes), 0, 0, 0);
            SendError(route, sender, client: null, echo, parsed == HeaderParseResult.UnsupportedVersion ? RpcStatus.UnsupportedVersion : RpcStatus.BadRequest,
                "TypedZmq could not read this request: " + error + ".");
            return null;
        }

        if (_gate is not null)
        {
            return BeginSealed(message, frames, request, peer, route, sender, out pending);
        }

        if (request.Kind == MessageKind.SealedRequest)
        {
            SendError(route, sender, client: null, request, RpcStatus.BadRequest,
                "this server does not run in secure mode: it reads plain requests (kind 1), not sealed ones. " +
                "Configure RpcServerOptions.Security on the server, or leave RpcClientOptions.Security unset on the client.");
            return null;
        }

        if (request.Kind == MessageKind.Cancel)
        {
            Cancel(peer, peer, request, client: null, route, sender);
            return null;
        }

        return BeginOpened(message, frames, request, peer, client: null, route, sender, out pending);
    }

    /// <summary>Loop thread: a client's connection ended: nobody waits for its running calls any more, so their tokens fire.</summary>
    public void ConnectionLost(RpcPeer connection)
    {
        foreach (ServerCall call in _running.Values.ToArray())
        {
            if (ReferenceEquals(call.Connection, connection))
            {
                call.Context.CancelByClient();
            }
        }

        _streams.EndAll(connection);
    }

    /// <summary>
    /// A client no longer waits for a request: fire the running call's token, or drop the request if it still waits in
    /// the loop's queue. Only the sender of the request can cancel it (same client key, or same connection).
    /// </summary>
    private void Cancel(object owner, RpcPeer connection, in RpcHeader cancel, ServerGate.Client? client, byte[][]? route, IReplySender sender)
    {
        if (_running.TryGetValue((owner, cancel.RequestId), out ServerCall? call))
        {
            call.Context.CancelByClient();
        }
        else if (!_streams.End(owner, cancel.RequestId)) // a stream's id is the request that opened it
        {
            sender.CancelQueued(connection, cancel.RequestId);
        }

        if (sender.AnswersEveryMessage)
        {
            // A REP socket must answer before it reads on; the client has forgotten the request and drops this.
            SendError(route, sender, client, cancel, RpcStatus.Cancelled, "cancel received; a reply server runs one call at a time, so it arrives after the call.");
        }
    }

    /// <summary>
    /// Secure mode: before anything else, the request must be sealed by an allowed client key, fresh, and seen for the
    /// first time. Refusals here are not sealed (the request could not be opened) and say nothing about the services.
    /// </summary>
    private ServerCall? BeginSealed(ReadOnlyMemory<byte> message, int frames, in RpcHeader request, RpcPeer peer, byte[][]? route, IReplySender sender, out ValueTask pending)
    {
        pending = default;
        if (request.Kind != MessageKind.SealedRequest)
        {
            SendError(route, sender, client: null, request, RpcStatus.Unauthenticated, ServerGate.NotAllowed + ".");
            return null;
        }

        if (frames != 1)
        {
            SendError(route, sender, client: null, request, RpcStatus.BadRequest,
                $"a request is exactly one frame (the header, then the payload) but this one has {frames}.");
            return null;
        }

        if (!_gate!.TryOpen(message.Span, out ServerGate.Client? client, out byte[]? plain, out int length, out RpcStatus status, out string? error))
        {
            // Sealed when the request was authentic (a replay, a stale one); otherwise it could not be, and names nothing.
            SendError(route, sender, client, request, status, "TypedZmq refused this request: " + error + ".");
            return null;
        }

        try
        {
            ReadOnlyMemory<byte> inner = plain.AsMemory(Sealing.KeySize, length);
            if (RpcHeader.TryParse(inner.Span, out RpcHeader opened, out _) != HeaderParseResult.Ok ||
                opened.Kind is not (MessageKind.Request or MessageKind.Cancel) || opened.RequestId != request.RequestId)
            {
                SendError(route, sender, client, request, RpcStatus.BadRequest,
                    "the sealed request does not hold a version-1 request or cancel (kind 1 or 6) with the request id of its outer header.");
                return null;
            }

            // The dispatcher has decoded the arguments (or the call owns a copy) by the time this returns: see BeginOpened.
            if (opened.Kind == MessageKind.Cancel)
            {
                Cancel(client!.Key, peer, opened, client, route, sender);
                return null;
            }

            if ((request.Flags & RpcHeader.SealedCancelFlag) != 0)
            {
                // The hint let it past the queue and the limits: only a cancel may pass that way.
                SendError(route, sender, client, request, RpcStatus.BadRequest, "the request is marked as a cancel outside its seal but is not one; it was not run.");
                return null;
            }

            return BeginOpened(inner, 1, opened, new RpcPeer(peer.RoutingId, client!.Key, client.Name), client, route, sender, out pending);
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(plain!, clearArray: true);
        }
    }

    /// <summary>Rules 4 to 10 of docs/protocol.md for a plain request (in secure mode, the one inside the seal).</summary>
    private ServerCall? BeginOpened(ReadOnlyMemory<byte> message, int frames, in RpcHeader request, RpcPeer peer, ServerGate.Client? client, byte[][]? route, IReplySender sender, out ValueTask pending)
    {
        pending = default;
        ReadOnlySpan<byte> bytes = message.Span;
        string? error;
        if (request.Kind != MessageKind.Request)
        {
            SendError(route, sender, client, request, RpcStatus.BadRequest, $"expected a request (message kind 1) but got kind {(byte)request.Kind}.");
            return null;
        }

        // Rule 5: one frame. Then the metadata block, when the flags say there is one.
        if (frames != 1)
        {
            SendError(route, sender, client, request, RpcStatus.BadRequest,
                $"a request is exactly one frame (the header, then the payload) but this one has {frames}.");
            return null;
        }

        int payloadStart = RpcHeader.Size;
        RpcMetadata? metadata = null;
        if (request.HasMetadata)
        {
            if (!MetadataBlock.TryRead(bytes.Slice(RpcHeader.Size), out metadata, out int blockSize, out error))
            {
                SendError(route, sender, client, request, RpcStatus.BadRequest, "TypedZmq could not read this request: " + error + ".");
                return null;
            }

            payloadStart += blockSize;
        }

        // Rules 6 to 8: a hosted service, a deadline not yet passed, a known method.
        if (!_services.TryGetValue(request.ServiceId, out RpcServiceDispatcher? dispatcher))
        {
            SendError(route, sender, client, request, RpcStatus.Unimplemented,
                $"this server hosts no service with id 0x{request.ServiceId:x8} (it hosts {DescribeServices()}). " +
                "Check that the client calls the right endpoint and that the server registers the service with AddService.");
            return null;
        }

        if (request.DeadlineUnixMs != 0 && DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() > request.DeadlineUnixMs)
        {
            SendError(route, sender, client, request, RpcStatus.DeadlineExceeded, "the request's deadline passed before the server could run it; it was not run.");
            return null;
        }

        RpcMethod? method = dispatcher.FindMethod(request.MethodId);
        if (method is null && dispatcher.KnowsItsMethods)
        {
            SendError(route, sender, client, request, RpcStatus.Unimplemented, UnknownMethod(dispatcher, request.MethodId));
            return null;
        }

        // A stopping server refuses new work; a retry of a call already answered (or running) is not run again.
        if (_draining)
        {
            SendError(route, sender, client, request, RpcStatus.Unavailable, ServerErrors.Stopping);
            return null;
        }

        // A pull of a stream is never a retry and never cached: each one takes the next items.
        bool pull = (request.Flags & RpcHeader.StreamPullFlag) != 0;
        bool push = (request.Flags & RpcHeader.StreamPushFlag) != 0;
        if (_cache is not null && !pull && !push)
        {
            switch (_cache.TryAnswer(request.RequestId, client?.Key, out ReplyCache.CachedReply? cached))
            {
                case ReplyCache.Outcome.Answered:
                    Send(route, sender, client, cached!.Header, cached.Payload);
                    return null;
                case ReplyCache.Outcome.Running:
                    SendError(route, sender, client, request, RpcStatus.Unavailable,
                        "this request is still running: a retry arrived before the first attempt finished. It will not run twice; retry shortly.");
                    return null;
                default:
                    _cache.MarkRunning(request.RequestId, client?.Key);
                    break;
            }
        }

        // Interceptors, then the dispatcher: it checks the payload against the method's schemas, decodes, runs.
        ServerCall call = _pool.Count > 0 ? _pool.Pop() : new ServerCall();
        var context = new RpcCallContext(dispatcher, method, request.MethodId, request.RequestId, request.DeadlineUnixMs, request.Attempt, peer, metadata, _stopping);
        call.Context = context;
        call.Request = request;
        call.Client = client;
        call.Pipeline = Telemetry.ServerEnabled ? _observedPipeline : _pipeline;
        ReadOnlyMemory<byte> arguments = message.Slice(payloadStart);
        if (call.Pipeline is not null)
        {
            // An interceptor may await before it calls next, and the frame is closed when this method returns.
            arguments = call.OwnArguments(arguments.Span);
        }

        call.Call.Begin(request.MethodId, dispatcher.ServiceName, arguments, context, captureResult: call.Pipeline is not null);
        call.Call.SetStream(_streams, client?.Key ?? (object)peer, _reading ?? peer, request.RequestId, pull, push);
        context.ServerCall = call.Call;

        pending = Dispatch(dispatcher, call);
        if (call.Pipeline is null)
        {
            // The generated dispatcher decodes every argument before it calls the implementation: the frame may close.
            call.Call.ReleaseArguments();
        }

        if (!pending.IsCompleted)
        {
            call.Owner = client?.Key ?? (object)peer;
            call.Connection = _reading;
            _running[(call.Owner, request.RequestId)] = call;
            return call;
        }

        Exception? failure = null;
        try
        {
            pending.GetAwaiter().GetResult();
        }
        catch (Exception ex)
        {
            failure = ex;
        }

        pending = default;
        Answer(call, failure, route, sender); // Begin ends the count
        return null;
    }

    private static ValueTask Dispatch(RpcServiceDispatcher dispatcher, ServerCall call)
    {
        // The loop thread may carry NetMQ's SynchronizationContext. An implementation that awaits without
        // ConfigureAwait(false) would capture it, continue on the socket's thread and, after Stop, post to a disposed
        // poller (an unhandled exception that ends the process). Implementations run without a context.
        SynchronizationContext? synchronization = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(null);
        RpcCallContext? outer = RpcCallContext.Enter(call.Context);
        try
        {
            return call.Pipeline is null ? DispatchCore(dispatcher, call.Call) : call.Pipeline(call.Context);
        }
        catch (Exception ex)
        {
            return ValueTask.FromException(ex);
        }
        finally
        {
            RpcCallContext.Enter(outer);
            SynchronizationContext.SetSynchronizationContext(synchronization);
        }
    }

    /// <summary>The generated dispatcher, or the stream a pull names.</summary>
    private static ValueTask DispatchCore(RpcServiceDispatcher dispatcher, RpcServerCall call) =>
        call.IsStreamPull ? call.PullStreamAsync() : call.IsStreamPush ? call.PushStreamAsync() : dispatcher.DispatchAsync(call);

    private static RpcServerContinuation? BuildPipeline(IList<RpcServerInterceptor> interceptors)
    {
        if (interceptors.Count == 0)
        {
            return null;
        }

        // Built once: no delegate is allocated per call. The first interceptor registered is the outermost.
        RpcServerContinuation next = DispatchAsync;
        for (int i = interceptors.Count - 1; i >= 0; i--)
        {
            RpcServerInterceptor interceptor = interceptors[i] ?? throw new InvalidOperationException("RpcServerOptions.Interceptors holds a null.");
            RpcServerContinuation inner = next;
            next = context => interceptor.InterceptAsync(context, inner);
        }

        return next;
    }

    /// <summary>The end of the interceptor chain: the generated dispatcher, its failures as <see cref="RpcException"/>s.</summary>
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder))]
    private static async ValueTask DispatchAsync(RpcCallContext context)
    {
        if (context.Dispatched)
        {
            throw new InvalidOperationException("An interceptor called next more than once for the same call.");
        }

        context.Dispatched = true;
        try
        {
            await DispatchCore(context.Service, context.ServerCall!).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not RpcException)
        {
            throw ServerErrors.FromImplementation(ex, context);
        }
    }

    private void SendResult(ServerCall call, byte[][]? route, IReplySender sender)
    {
        ReadOnlySpan<byte> result = call.Call.Result;
        long size = RpcHeader.Size + result.Length + (call.Client is null ? 0 : Sealing.ReplyOverhead);
        if (size > _options.MaxMessageSize)
        {
            // A reply the client would drop unread: tell it why instead.
            SendError(route, sender, call.Client, call.Request, RpcStatus.Internal,
                $"the reply is {size} bytes, over the server's MaxMessageSize ({_options.MaxMessageSize} bytes); the call ran but its " +
                "result was not sent. Return less per call, or raise the limit on both client and server.", record: true);
            return;
        }

        RpcHeader request = call.Request;
        var reply = new RpcHeader(MessageKind.Reply, RpcStatus.Ok, request.RequestId, request.ServiceId, request.MethodId, 0);
        _cache?.Record(reply, result, call.Client?.Key);
        Send(route, sender, call.Client, reply, result);
    }

    /// <summary>
    /// The one way an error leaves the server: from the request's header (its ids echoed), a status and a message. Only
    /// the outcome of a call that ran is <paramref name="record"/>ed for its retries.
    /// </summary>
    private void SendError(byte[][]? route, IReplySender sender, ServerGate.Client? client, in RpcHeader request, RpcStatus status, string message, string? type = null, string? detail = null, bool record = false)
    {
        _errorBody.Reset();
        PayloadCodec.WriteError(_errorBody, type, message, detail);
        var error = new RpcHeader(MessageKind.Error, status, request.RequestId, request.ServiceId, request.MethodId, 0);
        if (record)
        {
            _cache?.Record(error, _errorBody.WrittenSpan, client?.Key);
        }
        else
        {
            // Not run: counted, and logged at most once a second whatever a peer sends.
            if (Telemetry.ServerRefused.Enabled)
            {
                Telemetry.ServerRefused.Add(1, new KeyValuePair<string, object?>("rpc.response.status_code", Telemetry.StatusCode(status)));
            }

            _refusals.Refused(_reading ?? RpcPeer.Unknown, status, message);
        }

        Send(route, sender, client, error, _errorBody.WrittenSpan);
    }

    /// <summary>Sends a reply or error as it is, or sealed for the client in secure mode.</summary>
    private void Send(byte[][]? route, IReplySender sender, ServerGate.Client? client, in RpcHeader header, ReadOnlySpan<byte> payload)
    {
        if (client is null)
        {
            sender.Send(route, header, payload);
            return;
        }

        RpcHeader outer = _gate!.Seal(client, header, payload, _sealedBody);
        sender.Send(route, outer, _sealedBody.WrittenSpan);
    }

    private static string UnknownMethod(RpcServiceDispatcher dispatcher, uint methodId) =>
        $"{dispatcher.ServiceName} has no method with id 0x{methodId:x8} on this server. " +
        "The client was probably built from a newer contract than the server; deploy the server with the same contract.";
}
