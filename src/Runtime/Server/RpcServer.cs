using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using NetMQ;
using NetMQ.Sockets;
using TypedZmq.Internal;
using TypedZmq.Protocol;

namespace TypedZmq;

/// <summary>
/// Hosts one or more TypedZmq services and answers every request: one at a time on a ZeroMQ REP socket
/// (<see cref="RpcServerKind.Reply"/>, the default), or many at once on a ROUTER socket
/// (<see cref="RpcServerKind.Concurrent"/>).
/// </summary>
/// <remarks>
/// <para>
/// Every request gets exactly one reply: the result; <see cref="RpcStatus.RemoteError"/> when the implementation
/// throws; <see cref="RpcStatus.Unimplemented"/> for an unknown service or method; <see cref="RpcStatus.BadRequest"/>
/// or <see cref="RpcStatus.UnsupportedVersion"/> for frames it cannot parse, for example a plain ZeroMQ client
/// sending <c>Hello</c>. Bad input never stops the server.
/// </para>
/// <para>
/// The socket is owned by one background thread, on which synchronous implementations (and the synchronous part of
/// asynchronous ones) run, so keep them short: blocking work belongs in an asynchronous method. Asynchronous
/// implementations may complete on any thread; their reply is handed back to the socket's thread.
/// </para>
/// <para>
/// <see cref="Stop"/> is graceful: new requests get <see cref="RpcStatus.Unavailable"/>, calls in flight get up to
/// <see cref="RpcServerOptions.StopTimeout"/> to finish, then the rest are cancelled and the socket closes.
/// </para>
/// </remarks>
/// <example>
/// <code>
/// using var server = new RpcServer("tcp://*:5555");
/// server.AddService&lt;IGreeter&gt;(new Greeter());
/// await server.RunAsync(cancellationToken);
/// </code>
/// </example>
public sealed class RpcServer : IDisposable
{
    private static readonly TimeSpan CancelledReplyGrace = TimeSpan.FromSeconds(1);

    // How often the reply server's thread looks up from its socket to see whether it should stop.
    private static readonly TimeSpan ReplyWaitSlice = TimeSpan.FromMilliseconds(50);

    private readonly Dictionary<uint, RpcServiceDispatcher> _services = new();
    private readonly object _stateLock = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Stack<RpcServerCall> _callPool = new();
    private readonly Dictionary<ulong, byte[][]> _envelopes = new();

    // Reply cache (server thread only): request id -> the reply sent for it, or null while the call runs.
    private readonly Dictionary<ulong, CachedReply?> _replyCache = new();
    private readonly Queue<ulong> _replyCacheOrder = new();
    private readonly Queue<QueuedRequest> _queued = new();
    private readonly PayloadBuffer _errorBuffer = new();
    private NetMQSocket? _socket;
    private NetMQQueue<RpcServerCall?>? _completions;
    private NetMQPoller? _poller;
    private Thread? _replyThread;
    private volatile bool _stopReplyThread;
    private State _state;
    private int _inFlight;
    private volatile bool _draining;

    /// <summary>Creates a server that will listen on <paramref name="endpoint"/> once started.</summary>
    /// <param name="endpoint">For example <c>tcp://*:5555</c> or <c>inproc://greeter</c>.</param>
    public RpcServer(string endpoint)
        : this(new RpcServerOptions { Endpoint = endpoint })
    {
    }

    /// <summary>Creates a server with explicit options.</summary>
    /// <param name="options">The endpoint and limits.</param>
    public RpcServer(RpcServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.Endpoint))
        {
            throw new ArgumentException("An endpoint such as tcp://*:5555 is required.", nameof(options));
        }

        Options = options;
    }

    private enum State
    {
        Created,
        Running,
        Stopped,
    }

    /// <summary>The options this server was created with.</summary>
    public RpcServerOptions Options { get; }

    /// <summary>
    /// The endpoint the server actually listens on, once started; with a port of <c>0</c> or <c>*</c> this names the
    /// port that was picked (for example <c>tcp://127.0.0.1:49731</c>). <see langword="null"/> before
    /// <see cref="Start"/>.
    /// </summary>
    public string? BoundEndpoint { get; private set; }

    /// <summary>Hosts <paramref name="implementation"/> as the service <typeparamref name="TService"/>.</summary>
    /// <typeparam name="TService">An interface marked with <see cref="RpcServiceAttribute"/>.</typeparam>
    /// <param name="implementation">The object that serves the calls.</param>
    /// <returns>This server, for chaining.</returns>
    /// <exception cref="InvalidOperationException">
    /// The server was already started, no dispatcher was generated for <typeparamref name="TService"/>, or another
    /// hosted service has the same service id.
    /// </exception>
    public RpcServer AddService<TService>(TService implementation)
        where TService : class
    {
        ArgumentNullException.ThrowIfNull(implementation);
        RpcServiceDispatcher dispatcher = RpcServiceRegistry.GetDispatcherFactory<TService>()(implementation);
        lock (_stateLock)
        {
            if (_state != State.Created)
            {
                throw new InvalidOperationException("Add every service before calling Start or RunAsync.");
            }

            if (_services.TryGetValue(dispatcher.ServiceId, out RpcServiceDispatcher? existing))
            {
                throw new InvalidOperationException(
                    existing.ServiceName == dispatcher.ServiceName
                        ? $"The service {dispatcher.ServiceName} is already hosted by this server."
                        : $"The services {existing.ServiceName} and {dispatcher.ServiceName} have the same service id " +
                          $"0x{dispatcher.ServiceId:x8}. Give one of them another name with [RpcService(\"name\")].");
            }

            _services.Add(dispatcher.ServiceId, dispatcher);
        }

        return this;
    }

    /// <summary>
    /// Binds the endpoint and starts serving on a background thread. Returns once the server accepts requests.
    /// </summary>
    /// <exception cref="InvalidOperationException">The server was started before, or the endpoint cannot be bound (for example the port is in use).</exception>
    public void Start()
    {
        lock (_stateLock)
        {
            if (_state != State.Created)
            {
                throw new InvalidOperationException(
                    _state == State.Running ? "The server is already running." : "A stopped server cannot be restarted; create a new RpcServer.");
            }

            NetMQSocket socket = Options.Kind == RpcServerKind.Concurrent ? new RouterSocket() : new ResponseSocket();
            try
            {
                socket.Options.MaxMsgSize = Options.MaxMessageSize;

                // Replies still queued when the server stops get a bounded chance to leave. Closing does not wait for
                // it: ZeroMQ flushes in the background, and only NetMQConfig.Cleanup would block on it.
                socket.Options.Linger = TimeSpan.FromSeconds(1);
                BoundEndpoint = Bind(socket, Options.Endpoint);
            }
            catch
            {
                socket.Dispose();
                throw;
            }

            _socket = socket;
            _state = State.Running;
            if (Options.Kind == RpcServerKind.Reply)
            {
                // One request at a time needs no poller: a thread that blocks on the socket answers with the least latency.
                _replyThread = new Thread(ReplyLoop) { IsBackground = true, Name = "TypedZmq.RpcServer" };
                _replyThread.Start();
                return;
            }

            _completions = new NetMQQueue<RpcServerCall?>(capacity: 16);
            _poller = new NetMQPoller { _socket, _completions };
            _socket.ReceiveReady += OnRequestReady;
            _completions.ReceiveReady += OnCompletionReady;
            _poller.RunAsync("TypedZmq.RpcServer.Concurrent", isBackgroundThread: true);
        }
    }

    /// <summary>Starts the server (if it is not running yet) and serves until <paramref name="cancellationToken"/> is cancelled or the server is stopped.</summary>
    /// <param name="cancellationToken">Stops the server when cancelled.</param>
    /// <returns>A task that completes once the server has stopped.</returns>
    public async Task RunAsync(CancellationToken cancellationToken = default)
    {
        lock (_stateLock)
        {
            if (_state == State.Created)
            {
                Start();
            }
        }

        using (cancellationToken.Register(static state => ((RpcServer)state!).Stop(), this))
        {
            await _stopped.Task.ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Stops serving and closes the socket, gracefully: new requests are refused with
    /// <see cref="RpcStatus.Unavailable"/>, calls in flight get up to <see cref="RpcServerOptions.StopTimeout"/> to
    /// finish, then implementations that take a <see cref="CancellationToken"/> see it cancelled and the socket closes.
    /// A synchronous implementation that is running is waited for.
    /// </summary>
    public void Stop()
    {
        bool wasRunning;
        lock (_stateLock)
        {
            if (_state == State.Stopped)
            {
                return;
            }

            wasRunning = _state == State.Running;
            _state = State.Stopped;
        }

        NetMQPoller? poller = wasRunning ? _poller : null;
        if (wasRunning)
        {
            // Refuse new work (and what waits in the queue), then let the calls in flight finish, within bounds.
            _draining = true;
            WakePoller();
            var watch = System.Diagnostics.Stopwatch.StartNew();
            while (Volatile.Read(ref _inFlight) > 0 && watch.Elapsed < Options.StopTimeout)
            {
                Thread.Sleep(5);
            }
        }

        _stopping.Cancel();
        if (wasRunning)
        {
            // Implementations that honour the token finish now; give their "cancelled" replies a moment to leave.
            var grace = System.Diagnostics.Stopwatch.StartNew();
            while (Volatile.Read(ref _inFlight) > 0 && grace.Elapsed < CancelledReplyGrace)
            {
                Thread.Sleep(5);
            }

            if (_replyThread is not null)
            {
                _stopReplyThread = true;

                // It wakes at least every ReplyWaitSlice; a synchronous implementation still running is waited for,
                // within bounds. A thread that does not come back keeps the socket: closing it under the thread is worse.
                if (!_replyThread.Join(Options.StopTimeout + TimeSpan.FromSeconds(1)))
                {
                    _stopped.TrySetResult();
                    return;
                }
            }

            poller?.Stop();
            poller?.Dispose();
            _socket?.Dispose();
            _completions?.Dispose();
        }

        _stopped.TrySetResult();
    }

    /// <summary>Stops the server (see <see cref="Stop"/>).</summary>
    public void Dispose()
    {
        Stop();
        _stopping.Dispose();
    }

    private static string Bind(NetMQSocket socket, string endpoint)
    {
        try
        {
            if (endpoint.StartsWith("tcp://", StringComparison.OrdinalIgnoreCase) &&
                (endpoint.EndsWith(":0", StringComparison.Ordinal) || endpoint.EndsWith(":*", StringComparison.Ordinal)))
            {
                string address = endpoint.Substring(0, endpoint.Length - 2);
                int port = socket.BindRandomPort(address);
                return address + ":" + port.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            socket.Bind(endpoint);
            return socket.Options.LastEndpoint ?? endpoint;
        }
        catch (Exception ex) when (ex is NetMQException or ArgumentException or System.Net.Sockets.SocketException)
        {
            throw new InvalidOperationException(
                $"Cannot listen on '{endpoint}': {ex.Message}. If the port is in use, stop the other process or choose another " +
                "endpoint; otherwise use the form tcp://*:5555, tcp://127.0.0.1:0 or inproc://name.",
                ex);
        }
    }

    private void WakePoller()
    {
        try
        {
            _completions?.Enqueue(null);
        }
        catch (ObjectDisposedException)
        {
            // Already closed.
        }
    }

    // The reply server's thread: the only thread that touches its REP socket.
    private void ReplyLoop()
    {
        var msg = default(Msg);
        msg.InitEmpty();
        try
        {
            while (!_stopReplyThread)
            {
                if (!_socket!.TryReceive(ref msg, ReplyWaitSlice))
                {
                    continue;
                }

                int frames = 1 + (msg.HasMore ? Frames.DrainRemainingFrames(_socket, hasMore: true) : 0);
                Serve(envelope: null, msg.SliceAsMemory(), frames);
                msg.Close();
                msg.InitEmpty();
            }
        }
        finally
        {
            msg.Close();
        }
    }

    // Runs on the poller thread: the only thread that touches the socket.
    private void OnRequestReady(object? sender, NetMQSocketEventArgs e)
    {
        // Serve what is there now, bounded so that completions are not starved, then let the poller loop again.
        for (int i = 0; i < 256; i++)
        {
            if (!ReceiveOne())
            {
                return;
            }
        }
    }

    private bool ReceiveOne()
    {
        // headerMsg: the message frame, header and payload (after the routing envelope on a ROUTER).
        var headerMsg = default(Msg);
        headerMsg.InitEmpty();
        try
        {
            if (!_socket!.TryReceive(ref headerMsg, TimeSpan.Zero))
            {
                return false;
            }

            byte[][]? envelope = null;
            if (Options.Kind == RpcServerKind.Concurrent && !ReadEnvelope(ref headerMsg, out envelope))
            {
                return true; // not even a routable message: nothing to answer
            }

            int frames = 1 + (headerMsg.HasMore ? Frames.DrainRemainingFrames(_socket, hasMore: true) : 0);
            if (envelope is not null && (_draining || Volatile.Read(ref _inFlight) >= Options.MaxConcurrentCalls))
            {
                QueueOrRefuse(envelope, headerMsg.SliceAsMemory(), frames);
                return true;
            }

            Serve(envelope, headerMsg.SliceAsMemory(), frames);
            return true;
        }
        finally
        {
            headerMsg.Close();
        }
    }

    /// <summary>
    /// ROUTER: reads the routing frames up to and including the empty delimiter a REQ or DEALER peer puts before the
    /// body, leaving the first body frame in <paramref name="msg"/>.
    /// </summary>
    private bool ReadEnvelope(ref Msg msg, out byte[][]? envelope)
    {
        const int MaxRoutingFrames = 16;
        envelope = null;

        // The common case, a direct REQ or DEALER peer: [identity][empty][body...]. Its envelope is cached per peer,
        // so serving a request allocates nothing for routing.
        byte[][] first = EnvelopeFor(ref msg);
        if (!msg.HasMore)
        {
            return RefuseUndelimited(first, more: false);
        }

        msg.Close();
        msg.InitEmpty();
        if (!_socket!.TryReceive(ref msg, TimeSpan.FromSeconds(1)))
        {
            return false;
        }

        if (msg.Size == 0)
        {
            envelope = first;
            return ReadBodyStart(ref msg);
        }

        // Several routing frames (the request came through a proxy): collect them all.
        var frames = new List<byte[]>(first);
        while (true)
        {
            frames.Add(msg.ToArray());
            if (!msg.HasMore || frames.Count > MaxRoutingFrames)
            {
                return RefuseUndelimited(first, msg.HasMore);
            }

            msg.Close();
            msg.InitEmpty();
            if (!_socket.TryReceive(ref msg, TimeSpan.FromSeconds(1)))
            {
                return false;
            }

            if (msg.Size == 0)
            {
                envelope = frames.ToArray();
                return ReadBodyStart(ref msg);
            }
        }
    }

    /// <summary>After the delimiter: leaves the first body frame in <paramref name="msg"/> (empty if there is none).</summary>
    private bool ReadBodyStart(ref Msg msg)
    {
        bool more = msg.HasMore;
        msg.Close();
        msg.InitEmpty();
        return !more || _socket!.TryReceive(ref msg, TimeSpan.FromSeconds(1));
    }

    /// <summary>No delimiter: the peer is not a REQ-style client. Answer through its identity anyway, so it learns why.</summary>
    private bool RefuseUndelimited(byte[][] identity, bool more)
    {
        if (more)
        {
            Frames.DrainRemainingFrames(_socket!, hasMore: true);
        }

        SendError(identity, 0, 0, 0, RpcStatus.BadRequest, null,
            "TypedZmq could not read this request: it has no empty delimiter frame before the header. " +
            "Use a REQ socket, or send an empty frame before the header from a DEALER; see docs/protocol.md.", null);
        return false;
    }

    /// <summary>The one-frame envelope for the identity in <paramref name="msg"/>, cached for NetMQ's 5-byte identities.</summary>
    private byte[][] EnvelopeFor(ref Msg msg)
    {
        ReadOnlySpan<byte> identity = msg.Slice();
        if (identity.Length != 5)
        {
            return [msg.ToArray()];
        }

        ulong key = ((ulong)identity[0] << 32) | System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(identity.Slice(1));
        if (!_envelopes.TryGetValue(key, out byte[][]? envelope))
        {
            if (_envelopes.Count >= 10_000)
            {
                _envelopes.Clear(); // peers come and go; keep the cache bounded
            }

            envelope = [msg.ToArray()];
            _envelopes.Add(key, envelope);
        }

        return envelope;
    }

    private void QueueOrRefuse(byte[][] envelope, ReadOnlyMemory<byte> message, int frames)
    {
        if (!_draining && _queued.Count < Options.MaxQueuedRequests)
        {
            _queued.Enqueue(new QueuedRequest(envelope, message.ToArray(), frames));
            return;
        }

        RpcHeader.TryParse(message.Span, out RpcHeader parsed, out _);
        SendError(envelope, parsed.RequestId, parsed.ServiceId, parsed.MethodId, RpcStatus.Unavailable, null,
            _draining
                ? "the server is stopping and takes no new calls; retry on another server or later."
                : $"the server is at its limit ({Options.MaxConcurrentCalls} calls running, {_queued.Count} waiting); the call was not run. Retry later.",
            null);
    }

    /// <summary>Starts queued requests while there is room; refuses them all once the server is stopping.</summary>
    private void PumpQueue()
    {
        while (_queued.Count > 0 && (_draining || _inFlight < Options.MaxConcurrentCalls))
        {
            QueuedRequest next = _queued.Dequeue();
            if (_draining)
            {
                QueueOrRefuse(next.Envelope, next.Message, next.Frames);
            }
            else
            {
                Serve(next.Envelope, next.Message, next.Frames);
            }
        }
    }

    private void Serve(byte[][]? envelope, ReadOnlyMemory<byte> message, int frames)
    {
        ReadOnlySpan<byte> headerBytes = message.Span;
        HeaderParseResult parsed = RpcHeader.TryParse(headerBytes, out RpcHeader header, out string? error);
        if (parsed != HeaderParseResult.Ok)
        {
            ulong requestId = parsed == HeaderParseResult.NotTypedZmq ? 0 : RpcHeader.PeekRequestId(headerBytes);
            RpcStatus status = parsed == HeaderParseResult.UnsupportedVersion ? RpcStatus.UnsupportedVersion : RpcStatus.BadRequest;
            SendError(envelope, requestId, 0, 0, status, null, "TypedZmq could not read this request: " + error + ".", null);
            return;
        }

        if (header.Kind != MessageKind.Request)
        {
            SendError(envelope, header.RequestId, header.ServiceId, header.MethodId, RpcStatus.BadRequest, null,
                $"expected a request (message kind 1) but got kind {(byte)header.Kind}.", null);
            return;
        }

        if (frames != 1)
        {
            SendError(envelope, header.RequestId, header.ServiceId, header.MethodId, RpcStatus.BadRequest, null,
                $"a request is exactly one frame (the header, then the payload) but this one has {frames}.", null);
            return;
        }

        if (!_services.TryGetValue(header.ServiceId, out RpcServiceDispatcher? dispatcher))
        {
            SendError(envelope, header.RequestId, header.ServiceId, header.MethodId, RpcStatus.Unimplemented, null,
                $"this server hosts no service with id 0x{header.ServiceId:x8} (it hosts {DescribeServices()}). " +
                "Check that the client calls the right endpoint and that the server registers the service with AddService.", null);
            return;
        }

        if (header.DeadlineUnixMs != 0 && DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() > header.DeadlineUnixMs)
        {
            SendError(envelope, header.RequestId, header.ServiceId, header.MethodId, RpcStatus.DeadlineExceeded, null,
                "the request's deadline passed before the server could run it; it was not run.", null);
            return;
        }

        if (_draining)
        {
            SendError(envelope, header.RequestId, header.ServiceId, header.MethodId, RpcStatus.Unavailable, null,
                "the server is stopping and takes no new calls; retry on another server or later.", null);
            return;
        }

        if (Options.ReplyCacheSize > 0 && AnsweredFromCache(envelope, header))
        {
            return;
        }

        RpcServerCall call = _callPool.Count > 0 ? _callPool.Pop() : new RpcServerCall();
        call.Envelope = envelope;
        call.Begin(header.RequestId, header.ServiceId, header.MethodId, dispatcher.ServiceName, message.Slice(RpcHeader.Size), _stopping.Token);

        ValueTask pending;
        try
        {
            pending = dispatcher.DispatchAsync(call);
        }
        catch (Exception ex)
        {
            call.ReleaseArguments();
            SendFailure(call, ex);
            Recycle(call);
            return;
        }

        // Arguments are decoded before the implementation runs, so the request frame can be closed now.
        call.ReleaseArguments();
        if (pending.IsCompleted)
        {
            try
            {
                pending.GetAwaiter().GetResult();
                SendReply(call);
            }
            catch (Exception ex)
            {
                SendFailure(call, ex);
            }

            Recycle(call);
            return;
        }

        Interlocked.Increment(ref _inFlight);
        if (_replyThread is not null)
        {
            // A REP socket takes no new request until this one is answered, so its thread simply waits for the answer.
            try
            {
                pending.AsTask().GetAwaiter().GetResult();
                SendReply(call);
            }
            catch (Exception ex)
            {
                SendFailure(call, ex);
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }

            Recycle(call);
            return;
        }

        // A ROUTER goes on serving others meanwhile; the completion comes back through the queue.
        _ = CompleteLaterAsync(pending, call, _completions!);
    }

    private void Recycle(RpcServerCall call)
    {
        call.Envelope = null;
        if (_callPool.Count < 256)
        {
            _callPool.Push(call);
        }
    }

    private static async Task CompleteLaterAsync(ValueTask pending, RpcServerCall call, NetMQQueue<RpcServerCall?> completions)
    {
        try
        {
            await pending.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            call.Failure = ex;
        }

        try
        {
            completions.Enqueue(call);
        }
#pragma warning disable CA1031 // Nobody awaits this task: an exception here would only be lost, so say why it is ignored.
        catch (Exception) when (completions.IsDisposed)
#pragma warning restore CA1031
        {
            // The server stopped while the implementation ran: there is no socket left to answer on.
        }
    }

    private void OnCompletionReady(object? sender, NetMQQueueEventArgs<RpcServerCall?> e)
    {
        while (e.Queue.TryDequeue(out RpcServerCall? call, TimeSpan.Zero))
        {
            if (call is null)
            {
                continue; // a wake-up from Stop: the queue is pumped below
            }

            if (call.Failure is { } failure)
            {
                SendFailure(call, failure);
            }
            else
            {
                SendReply(call);
            }

            Interlocked.Decrement(ref _inFlight);
            Recycle(call);
        }

        PumpQueue();
    }

    private void SendReply(RpcServerCall call)
    {
        long size = RpcHeader.Size + call.Result.Length;
        if (size > Options.MaxMessageSize)
        {
            // A reply the client would drop unread: tell it why instead.
            SendError(call.Envelope, call.RequestId, call.ServiceId, call.MethodId, RpcStatus.Internal, null,
                $"the reply is {size} bytes, over the server's MaxMessageSize ({Options.MaxMessageSize} bytes); the call ran but its " +
                "result was not sent. Return less per call, or raise the limit on both client and server.", null);
            return;
        }

        var header = new RpcHeader(MessageKind.Reply, RpcStatus.Ok, call.RequestId, call.ServiceId, call.MethodId, 0);
        Send(call.Envelope, header, call.Result);
    }

    /// <summary>
    /// At-most-once: a request id seen before is answered with the reply it got then (or told to retry while the first
    /// attempt still runs), and the call is not run again. A new id is remembered as running.
    /// </summary>
    private bool AnsweredFromCache(byte[][]? envelope, in RpcHeader header)
    {
        if (_replyCache.TryGetValue(header.RequestId, out CachedReply? cached))
        {
            if (cached is null)
            {
                // Sent past Send() on purpose: this answer must not become the cached reply of the running call.
                _errorBuffer.Reset();
                PayloadCodec.WriteError(_errorBuffer, null,
                    "this request is still running: a retry arrived before the first attempt finished. It will not run twice; retry shortly.", null);
                var busy = new RpcHeader(MessageKind.Error, RpcStatus.Unavailable, header.RequestId, header.ServiceId, header.MethodId, 0);
                Frames.TrySend(_socket!, envelope, delimiter: envelope is not null, busy, _errorBuffer.WrittenSpan, TimeSpan.FromSeconds(1));
            }
            else
            {
                Frames.TrySend(_socket!, envelope, delimiter: envelope is not null, cached.Header, cached.Payload, TimeSpan.FromSeconds(1));
            }

            return true;
        }

        _replyCache.Add(header.RequestId, null);
        _replyCacheOrder.Enqueue(header.RequestId);
        while (_replyCacheOrder.Count > Options.ReplyCacheSize)
        {
            _replyCache.Remove(_replyCacheOrder.Dequeue());
        }

        return false;
    }

    private void Send(byte[][]? envelope, in RpcHeader header, ReadOnlySpan<byte> payload)
    {
        if (Options.ReplyCacheSize > 0 && _replyCache.TryGetValue(header.RequestId, out CachedReply? cached) && cached is null)
        {
            _replyCache[header.RequestId] = new CachedReply(header, payload.ToArray());
        }

        // A ROUTER drops a reply to a peer that is gone or whose queue is full; a REP socket always takes it. Never block.
        Frames.TrySend(_socket!, envelope, delimiter: envelope is not null, header, payload, TimeSpan.FromSeconds(1));
    }

    private void SendFailure(RpcServerCall call, Exception exception)
    {
        switch (exception)
        {
            case RpcException rpc:
                SendError(call.Envelope, call.RequestId, call.ServiceId, call.MethodId, rpc.Status, rpc.RemoteExceptionType, rpc.Message,
                    Options.IncludeExceptionDetails ? rpc.ToString() : null);
                break;
            case OperationCanceledException when _stopping.IsCancellationRequested:
                SendError(call.Envelope, call.RequestId, call.ServiceId, call.MethodId, RpcStatus.Cancelled, exception.GetType().FullName,
                    "the server is stopping and cancelled the call.", null);
                break;
            default:
                SendError(call.Envelope, call.RequestId, call.ServiceId, call.MethodId, RpcStatus.RemoteError, exception.GetType().FullName,
                    exception.Message, Options.IncludeExceptionDetails ? exception.ToString() : null);
                break;
        }
    }

    private void SendError(byte[][]? envelope, ulong requestId, uint serviceId, uint methodId, RpcStatus status, string? type, string message, string? detail)
    {
        _errorBuffer.Reset();
        PayloadCodec.WriteError(_errorBuffer, type, message, detail);
        var header = new RpcHeader(MessageKind.Error, status, requestId, serviceId, methodId, 0);
        Send(envelope, header, _errorBuffer.WrittenSpan);
    }

    private string DescribeServices()
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

    private readonly record struct QueuedRequest(byte[][] Envelope, byte[] Message, int Frames);

    private sealed record CachedReply(RpcHeader Header, byte[] Payload);
}
