using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using NetMQ;
using NetMQ.Sockets;
using TypedZmq.Diagnostics;
using TypedZmq.Internal;
using TypedZmq.Protocol;
using TypedZmq.Security;
using TypedZmq.Sockets;

namespace TypedZmq.Client;

/// <summary>
/// The client channel for many concurrent calls: one <see cref="DealerSocket"/> owned by one poller thread. Callers
/// on any thread hand their request to that thread through a queue and get a task; replies are matched to calls by
/// request id. Everything that touches the socket or the table of pending calls runs on the poller thread, so none of
/// it needs a lock.
/// </summary>
/// <remarks>
/// Completions are set with continuations forced off the poller thread, so a caller's code never runs on (or blocks)
/// the socket's thread. Late or unknown replies are dropped. A call leaves the pending table when its reply arrives,
/// when its deadline passes (checked by a timer on the poller thread) or when its token is cancelled. A call that may
/// be retried (see <see cref="CallPolicy"/>) stays pending across attempts, keeping its request id and its encoded
/// request, so a late reply to an earlier attempt still completes it.
/// </remarks>
internal sealed class MultiplexedChannel : RpcChannel, IDisposable
{
    private static readonly TimeSpan DeadlineCheckInterval = TimeSpan.FromMilliseconds(10);

    private readonly RpcClientOptions _options;
    private readonly DealerSocket _socket;
    private readonly PollerMailbox<Command> _commands;
    private readonly NetMQTimer _deadlineTimer;
    private readonly NetMQPoller _poller;
    private readonly ClientSealer? _sealer; // secure mode; poller thread only
    private readonly NetMQ.Monitoring.NetMQMonitor _monitor; // connection events, on the poller thread

    // Server sets that change: the endpoints connected now (poller thread), and the loop that asks the resolver.
    private readonly HashSet<string> _connected;
    private readonly PollerMailbox<IReadOnlyCollection<string>>? _endpointUpdates;
    private readonly CancellationTokenSource _resolving = new();

    // Poller thread: calls that were in flight when a connection was lost, settled a moment later (see OnDisconnected).
    private List<ulong>? _lostCalls;
    private string _lostEndpoint = "";
    private long _settleLostAt;

    // Poller thread only.
    private readonly Dictionary<ulong, PendingCall> _pending = new();

    private volatile bool _disposed;

    public MultiplexedChannel(RpcClientOptions options)
        : base(options)
    {
        _options = options;
        _sealer = options.Security is { } security ? new ClientSealer(security) : null;
        _socket = ClientSockets.Connect(new DealerSocket(), options, options.Endpoints);
        _commands = new PollerMailbox<Command>(OnCommand);
        _deadlineTimer = new NetMQTimer(DeadlineCheckInterval) { Enable = false };
        _socket.ReceiveReady += OnReplyReady;
        _deadlineTimer.Elapsed += OnDeadlineTimer;
        _poller = new NetMQPoller { _socket, _deadlineTimer };
        _commands.AttachTo(_poller);

        // A lost connection (closed by the server's process ending, or silent past the heartbeat timeout when heartbeats
        // are on) is reported here, on the poller thread, so the calls in flight on it end now rather than at their deadlines.
        _monitor = new NetMQ.Monitoring.NetMQMonitor(_socket, $"inproc://typedzmq-monitor-{Guid.NewGuid():N}", NetMQ.SocketEvents.Disconnected);
        _monitor.Disconnected += OnDisconnected;
        _monitor.AttachToPoller(_poller);

        _connected = new HashSet<string>(options.Endpoints, StringComparer.Ordinal);
        if (options.EndpointResolver is { } resolver)
        {
            _endpointUpdates = new PollerMailbox<IReadOnlyCollection<string>>(OnEndpointsResolved);
            _endpointUpdates.AttachTo(_poller);
            _ = ResolveLoopAsync(resolver, options.ResolveInterval, _resolving.Token);
        }

        _poller.RunAsync("TypedZmq.MultiplexedChannel", isBackgroundThread: true);
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _resolving.Cancel();
        _endpointUpdates?.Close();
        _commands.Close();
        _poller.Stop();

        // The poller thread is gone: this thread owns the table now. Every call started before Dispose ends with
        // Cancelled, whether it was in flight or still waiting in the mailbox; none is left hanging.
        foreach (PendingCall call in _pending.Values)
        {
            call.ReleaseRequest();
            call.Fail(CallPolicy.DisposedWhileWaiting(call.Method));
        }

        _pending.Clear();
        while (_commands.TryTake(out Command command))
        {
            command.Call.Fail(CallPolicy.DisposedWhileWaiting(command.Call.Method));
            command.Request?.Return();
        }

        _monitor.Dispose(); // detaches from the stopped poller, and must go before its socket
        _poller.Dispose();
        _socket.Dispose();
        _commands.Dispose();
        _endpointUpdates?.Dispose();
        _resolving.Dispose();
        _sealer?.Dispose();
    }

    private protected override TResult InvokeCore<TResult>(RpcRequest request, CancellationToken cancellationToken) =>
        InvokeCoreAsync<TResult>(request, cancellationToken).GetAwaiter().GetResult();

    private protected override Task<TResult> InvokeCoreAsync<TResult>(RpcRequest request, CancellationToken cancellationToken)
    {
        RpcMethod method = request.Method;
        if (_disposed)
        {
            request.Return();
            return Task.FromException<TResult>(CallPolicy.CalledAfterDispose(method));
        }

        if (cancellationToken.IsCancellationRequested)
        {
            request.Return();
            return Task.FromCanceled<TResult>(cancellationToken);
        }

        if (CallPolicy.CheckSize(_options, request) is { } tooLarge)
        {
            request.Return();
            return Task.FromException<TResult>(tooLarge);
        }

        var deadline = new CallDeadline(request.Timeout);
        var call = new PendingCall<TResult>(this, method, request.RequestId, deadline);
        if (cancellationToken.CanBeCanceled)
        {
            call.RegisterCancellation(cancellationToken);
        }

        if (!_commands.TryPost(new Command(call, request)))
        {
            // Disposed between the check above and now: the call started before Dispose finished, so it is cancelled.
            request.Return();
            call.Fail(CallPolicy.DisposedWhileWaiting(method));
        }

        return call.Task;
    }

    // A closed mailbox means Dispose runs: it fails every pending call itself.
    private void RequestCancellation(PendingCall call) => _commands.TryPost(new Command(call, null));

    // Poller thread.
    private void OnCommand(Command command)
    {
        PendingCall call = command.Call;
        if (command.Request is not { } request)
        {
            // A cancellation: forget the call, and tell the server, which stops it (or drops it from its queue). It may not
            // even be sent yet (then its send is skipped below).
            if (_pending.Remove(call.RequestId))
            {
                SendCancel(call);
                call.ReleaseRequest();
            }

            call.Cancel();
            return;
        }

        if (call.IsCompleted)
        {
            request.Return(); // cancelled before it was sent: do not send it at all
            return;
        }

        // The request stays with the call until it completes, so a retry can send the same bytes and request id.
        call.Request = request;
        _pending.Add(call.RequestId, call);
        if (!TrySend(call))
        {
            AttemptFailed(call, Stopwatch.GetTimestamp(), SendQueueFull(call));
        }

        if (!_deadlineTimer.Enable && (!call.Deadline.IsInfinite || call.ResendAt != 0))
        {
            _deadlineTimer.Enable = true;
        }
    }

    private bool TrySend(PendingCall call)
    {
        RpcRequest request = call.Request!;
        request.NoteAttempt(call.Attempt);
        var header = new RpcHeader(MessageKind.Request, RpcStatus.Ok, call.RequestId, call.Method.ServiceId, call.Method.MethodId,
            call.Deadline.UnixMilliseconds, request.HeaderFlags(call.Attempt));
        return Frames.TrySend(_socket, envelope: null, delimiter: true, header, request.Metadata, request.Payload, TimeSpan.Zero, _sealer);
    }

    /// <summary>
    /// Poller thread: the connection to a server ended. Replies that arrived before it are read first; then, with one
    /// endpoint, every call still in flight has lost its server: each fails with <see cref="RpcStatus.Unavailable"/>, or
    /// is retried at once if it may be. With several endpoints the channel cannot tell which calls went to the lost one
    /// (the DEALER does not say), so only the calls that may be retried are sent again (a late reply from a live server
    /// still completes them); the others keep waiting for their reply or their deadline.
    /// </summary>
    private void OnDisconnected(object? sender, NetMQ.Monitoring.NetMQMonitorSocketEventArgs e)
    {
        if (_disposed || _pending.Count == 0)
        {
            return;
        }

        // NetMQ reports the loss a moment before the last replies it read reach the socket: the calls in flight now are
        // settled on a timer tick a little later, after those replies have been read.
        (_lostCalls ??= []).AddRange(_pending.Keys);
        _lostEndpoint = e.Address;
        _settleLostAt = Stopwatch.GetTimestamp() + (Stopwatch.Frequency / 50); // 20 ms
        _deadlineTimer.Enable = true;
    }

    /// <summary>Asks the resolver on an interval and hands each answer to the poller thread; failures keep the current set.</summary>
    private async Task ResolveLoopAsync(IRpcEndpointResolver resolver, TimeSpan interval, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                await Task.Delay(interval, cancellationToken).ConfigureAwait(false);
                IReadOnlyCollection<string> endpoints;
                try
                {
                    endpoints = await resolver.ResolveAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    Log.ResolveFailed(Logger, _options.Endpoint, ex);
                    continue; // keep what is connected; DNS hiccups must not disconnect everything
                }

                if (endpoints.Count > 0 && !_endpointUpdates!.TryPost(endpoints))
                {
                    return; // disposed
                }
            }
        }
        catch (OperationCanceledException)
        {
            // disposed
        }
    }

    /// <summary>
    /// Poller thread: connects to endpoints that appeared and disconnects from ones that went. Calls in flight on a
    /// removed server are lost with its connection and handled as any lost connection; others are untouched.
    /// </summary>
    private void OnEndpointsResolved(IReadOnlyCollection<string> endpoints)
    {
        var wanted = new HashSet<string>(endpoints, StringComparer.Ordinal);
        foreach (string endpoint in wanted)
        {
            if (!_connected.Contains(endpoint) && TryChange(endpoint, connect: true))
            {
                _connected.Add(endpoint);
            }
        }

        foreach (string endpoint in new List<string>(_connected))
        {
            if (!wanted.Contains(endpoint) && TryChange(endpoint, connect: false))
            {
                _connected.Remove(endpoint);
            }
        }
    }

    private bool TryChange(string endpoint, bool connect)
    {
        try
        {
            if (connect)
            {
                Sockets.Endpoints.Validate(endpoint, nameof(IRpcEndpointResolver), "tcp://10.0.0.7:5555");
                _socket.Connect(endpoint);
            }
            else
            {
                _socket.Disconnect(endpoint);
            }

            Log.EndpointChanged(Logger, endpoint, connect);
            return true;
        }
        catch (Exception ex) when (ex is ArgumentException or NetMQException or EndpointNotFoundException)
        {
            Log.ResolveFailed(Logger, endpoint, ex);
            return false;
        }
    }

    // Poller thread: the calls that were in flight on a lost connection and are still unanswered.
    private void SettleLostCalls(long now)
    {
        for (int i = 0; i < 100 && _socket.HasIn; i++)
        {
            OnReplyReady(null, null!); // every reply that made it
        }

        List<ulong> lost = _lostCalls!;
        _lostCalls = null;
        bool oneServer = _connected.Count <= 1;
        foreach (ulong requestId in lost)
        {
            if (!_pending.TryGetValue(requestId, out PendingCall? call) || call.ResendAt != 0)
            {
                continue; // answered meanwhile, or a retry is already on its way
            }

            RpcException error = CallPolicy.ConnectionLost(call.Method, _lostEndpoint);
            if (oneServer || CallPolicy.MayRetry(_options, call.Method, error.Status, call.Attempt))
            {
                AttemptFailed(call, now, error);
            }
        }
    }

    /// <summary>
    /// Tells the server that nobody waits for the call any more (docs/protocol.md, "Cancel"). Best effort: never blocks,
    /// never answered; with several endpoints it goes to whichever server the DEALER picks next.
    /// </summary>
    private void SendCancel(PendingCall call)
    {
        var cancel = new RpcHeader(MessageKind.Cancel, RpcStatus.Ok, call.RequestId, call.Method.ServiceId, call.Method.MethodId, 0);
        Frames.TrySend(_socket, envelope: null, delimiter: true, cancel, metadata: null, ReadOnlySpan<byte>.Empty, TimeSpan.Zero, _sealer);
    }

    private RpcException SendQueueFull(PendingCall call) => new(
        RpcStatus.Unavailable,
        $"{call.Method}: the send queue to {_options.Endpoint} is full (ZeroMQ's high-water mark), so the server is not keeping up " +
        "or not reachable. The call was not sent; retry later or lower the number of concurrent calls.");

    /// <summary>
    /// An attempt timed out or could not be sent: schedule a retry when the call may be retried (it stays pending, so
    /// a late reply to the earlier attempt still completes it), otherwise fail it.
    /// </summary>
    private void AttemptFailed(PendingCall call, long now, RpcException error)
    {
        if (CallPolicy.MayRetry(_options, call.Method, error.Status, call.Attempt))
        {
            CallPolicy.NoteRetry(Logger, _options, call.Method, call.Attempt + 1, error.Status);
            TimeSpan backoff = CallPolicy.Backoff(_options, call.Attempt);
            call.Attempt++;
            call.ResendAt = now + (long)(backoff.TotalSeconds * Stopwatch.Frequency);
            return;
        }

        _pending.Remove(call.RequestId);
        if (error.Status == RpcStatus.DeadlineExceeded)
        {
            SendCancel(call); // the server stops work nobody waits for, even if its clock disagrees about the deadline
        }

        call.ReleaseRequest();
        call.Fail(CallPolicy.AfterAttempts(error, call.Attempt));
    }

    // Poller thread.
    private void OnReplyReady(object? sender, NetMQSocketEventArgs e)
    {
        var delimiter = default(Msg);
        var body = default(Msg);
        delimiter.InitEmpty();
        body.InitEmpty();
        try
        {
            // Drain what is there now (bounded, so queued commands are not starved), then let the poller loop again.
            for (int i = 0; i < 1000 && _socket.TryReceive(ref delimiter, TimeSpan.Zero); i++)
            {
                // A reply is [empty delimiter][header + payload]; the rest of a message arrives with its first frame.
                bool more = delimiter.HasMore;
                bool ok = more && delimiter.Size == 0 && _socket.TryReceive(ref body, TimeSpan.FromSeconds(1));
                if (ok)
                {
                    more = body.HasMore;
                    ok = !more;
                }

                if (ok)
                {
                    ReadOnlySpan<byte> frame = body.Slice();
                    if (RpcHeader.TryParse(frame, out RpcHeader outer, out _) == HeaderParseResult.Ok &&
                        _pending.TryGetValue(outer.RequestId, out PendingCall? call))
                    {
                        RpcHeader reply = outer;
                        ReadOnlySpan<byte> payload = frame.Slice(RpcHeader.Size);
                        if (_sealer is not null && _sealer.Open(frame, outer, out reply, out payload) is not null)
                        {
                            // Not from the pinned server (or changed on the way): dropped, so that whoever can inject
                            // messages cannot fail a call; the real reply may still come, or the deadline ends the call.
                        }
                        else if (reply.Kind == MessageKind.Error && reply.Status is RpcStatus.Unavailable or RpcStatus.DeadlineExceeded)
                        {
                            // The server could not take it (or it expired in its queue): the same rules as a timeout,
                            // unless a retry is already scheduled. A successful late reply completes the call either way.
                            if (call.ResendAt == 0)
                            {
                                AttemptFailed(call, Stopwatch.GetTimestamp(), ReplyDecoder.ToException(call.Method, reply.Status, payload));
                            }
                        }
                        else
                        {
                            _pending.Remove(outer.RequestId);
                            call.ReleaseRequest();
                            call.Complete(reply, payload);
                        }
                    }

                    // Otherwise a late reply (its call timed out or was cancelled): dropped.
                }
                else if (more)
                {
                    Frames.DrainRemainingFrames(_socket, hasMore: true); // not a TypedZmq reply: dropped whole
                }

                body.Close();
                body.InitEmpty();
            }
        }
        finally
        {
            delimiter.Close();
            body.Close();
        }
    }

    // Poller thread. A scan of the calls in flight every few milliseconds: cheaper and simpler than a priority queue,
    // which would keep an entry for every answered call until its deadline passed.
    private void OnDeadlineTimer(object? sender, NetMQTimerEventArgs e)
    {
        long now = Stopwatch.GetTimestamp();
        if (_lostCalls is not null && now >= _settleLostAt)
        {
            SettleLostCalls(now);
        }

        bool stillTiming = _lostCalls is not null;
        foreach (KeyValuePair<ulong, PendingCall> entry in _pending)
        {
            PendingCall call = entry.Value;
            if (call.ResendAt != 0)
            {
                stillTiming = true;
                if (now >= call.ResendAt)
                {
                    call.ResendAt = 0;
                    call.Restart();
                    if (!TrySend(call))
                    {
                        AttemptFailed(call, now, SendQueueFull(call)); // may remove it: allowed while enumerating
                    }
                }

                continue;
            }

            if (call.DeadlineTimestamp > now)
            {
                stillTiming |= call.DeadlineTimestamp != long.MaxValue;
                continue;
            }

            stillTiming = true;
            AttemptFailed(call, now, CallPolicy.NoReply(call.Method, _options.Endpoint, call.Deadline.Timeout));
        }

        if (!stillTiming)
        {
            _deadlineTimer.Enable = false;
        }
    }

    private readonly struct Command
    {
        public Command(PendingCall call, RpcRequest? request)
        {
            Call = call;
            Request = request;
        }

        public PendingCall Call { get; }

        /// <summary>The request to send, or null for a cancellation.</summary>
        public RpcRequest? Request { get; }
    }

    private abstract class PendingCall
    {
        private CancellationTokenRegistration _registration;
        private CancellationToken _token;

        protected PendingCall(MultiplexedChannel channel, RpcMethod method, ulong requestId, in CallDeadline deadline)
        {
            Channel = channel;
            Method = method;
            RequestId = requestId;
            Deadline = deadline;
        }

        public MultiplexedChannel Channel { get; }

        public RpcMethod Method { get; }

        public ulong RequestId { get; }

        public CallDeadline Deadline { get; private set; }

        public long DeadlineTimestamp => Deadline.ExpiresAtTimestamp;

        /// <summary>The encoded request, kept until the call completes so that a retry can resend it (poller thread).</summary>
        public RpcRequest? Request { get; set; }

        public int Attempt { get; set; } = 1;

        /// <summary>When to send the next attempt (Stopwatch timestamp), or 0 when none is scheduled.</summary>
        public long ResendAt { get; set; }

        /// <summary>Starts the time budget of a new attempt.</summary>
        public void Restart()
        {
            Deadline = new CallDeadline(Deadline.Timeout);
        }

        public void ReleaseRequest()
        {
            Request?.Return();
            Request = null;
        }

        public abstract bool IsCompleted { get; }

        public void RegisterCancellation(CancellationToken token)
        {
            _token = token;
            _registration = token.UnsafeRegister(static state => ((PendingCall)state!).Channel.RequestCancellation((PendingCall)state!), this);
        }

        /// <summary>Decodes the reply (on the poller thread) and completes the caller's task.</summary>
        public abstract void Complete(in RpcHeader header, ReadOnlySpan<byte> payload);

        public abstract void Fail(Exception exception);

        public void Cancel() => Canceled(_token);

        protected abstract void Canceled(CancellationToken token);

        protected void ReleaseRegistration() => _registration.Dispose();
    }

    private sealed class PendingCall<TResult> : PendingCall
    {
        // Continuations run asynchronously: never on the poller thread, which must stay free to serve other calls.
        private readonly TaskCompletionSource<TResult> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public PendingCall(MultiplexedChannel channel, RpcMethod method, ulong requestId, in CallDeadline deadline)
            : base(channel, method, requestId, deadline)
        {
        }

        public Task<TResult> Task => _completion.Task;

        public override bool IsCompleted => _completion.Task.IsCompleted;

        public override void Complete(in RpcHeader header, ReadOnlySpan<byte> payload)
        {
            TResult result;
            try
            {
                result = ReplyDecoder.Decode<TResult>(Method, header, payload);
            }
            catch (Exception ex)
            {
                Fail(ex);
                return;
            }

            ReleaseRegistration();
            _completion.TrySetResult(result);
        }

        public override void Fail(Exception exception)
        {
            ReleaseRegistration();
            _completion.TrySetException(exception);
        }

        protected override void Canceled(CancellationToken token)
        {
            ReleaseRegistration();
            _completion.TrySetCanceled(token);
        }
    }
}
