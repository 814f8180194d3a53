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
/// The client channel for many concurrent calls: one poller thread that owns a <see cref="ServerLink"/> (a
/// <see cref="DealerSocket"/>) per server. Callers on any thread hand their request to that thread through a queue and
/// get a task; replies are matched to calls by request id. Everything that touches the sockets or the table of pending
/// calls runs on the poller thread, so none of it needs a lock.
/// </summary>
/// <remarks>
/// Completions are set with continuations forced off the poller thread, so a caller's code never runs on (or blocks)
/// the socket's thread. Late or unknown replies are dropped. A call leaves the pending table when its reply arrives,
/// when its deadline passes (checked by a timer on the poller thread) or when its token is cancelled. A call that may
/// be retried (see <see cref="CallPolicy"/>) stays pending across attempts, keeping its request id and its encoded
/// request, so a late reply to an earlier attempt still completes it. Each attempt goes to one server, chosen by
/// <see cref="RpcClientOptions.LoadBalancing"/> among those connected (see docs/scaling.md).
/// </remarks>
internal sealed class MultiplexedChannel : RpcChannel, IDisposable
{
    private static readonly TimeSpan DeadlineCheckInterval = TimeSpan.FromMilliseconds(10);

    private readonly RpcClientOptions _options;
    private readonly PollerMailbox<Command> _commands;
    private readonly NetMQTimer _deadlineTimer;
    private readonly NetMQPoller _poller;
    private readonly ClientSealer? _sealer; // secure mode; poller thread only

    // Poller thread: one link per server, in the order they were added. With several servers (or a set that changes) a
    // send fails at once on a link with no connection up, so a server that is down takes no calls.
    private readonly List<ServerLink> _links = new();
    private readonly bool _severalServers;
    private readonly bool _roundRobin;
    private uint _nextLink; // where the search for a server starts, turning with every send
    private long _sendStamp; // marks the links one send has tried
    private List<ServerLink>? _closing; // removed links whose last call ended: closed on the next timer tick
    private readonly int _maxInFlightPerServer;
    private readonly bool _batchesWelcome; // this client reads batched answers: its MaxMessageSize takes the largest batch

    // Poller thread: calls not sent yet (no connection up, every server at its bound, or every send queue full), oldest
    // first; sent as soon as a server can take them, failed at their deadline. Entries whose call left are skipped.
    private readonly Queue<PendingCall> _waiting = new();

    // Server sets that change: the loop that asks the resolver hands its answers to the poller thread.
    private readonly PollerMailbox<IReadOnlyCollection<string>>? _endpointUpdates;
    private readonly CancellationTokenSource _resolving = new();

    // Poller thread: calls that were in flight on a connection when it was lost, settled a moment later (see OnDisconnected).
    private List<(ServerLink Link, ulong RequestId, long SettleAt)>? _lostCalls;

    // Poller thread: links with requests batched in this turn of the poller, sent at its end (see SendBatches).
    private readonly List<ServerLink> _batched = new();

    // Poller thread only.
    private readonly Dictionary<ulong, PendingCall> _pending = new();

    // Poller thread: the server each open stream lives on (by the request id that opened it): its pulls go there.
    private readonly Dictionary<ulong, ServerLink> _streamLinks = new();

    private volatile bool _disposed;

    public MultiplexedChannel(RpcClientOptions options)
        : base(options)
    {
        _options = options;
        _sealer = options.Security is { } security ? new ClientSealer(security) : null;
        _severalServers = options.HasSeveralServers;
        _roundRobin = options.LoadBalancing == RpcLoadBalancing.RoundRobin;
        _maxInFlightPerServer = options.MaxCallsInFlightPerServer ?? int.MaxValue;
        _batchesWelcome = options.MaxMessageSize >= MessageBatch.MaxFrameSize;
        _commands = new PollerMailbox<Command>(OnCommand, afterBatch: SendBatches);
        _deadlineTimer = new NetMQTimer(DeadlineCheckInterval) { Enable = false };
        _deadlineTimer.Elapsed += OnDeadlineTimer;
        _poller = new NetMQPoller { _deadlineTimer };
        _commands.AttachTo(_poller);
        try
        {
            foreach (string endpoint in options.Endpoints)
            {
                _links.Add(NewLink(endpoint));
            }
        }
        catch
        {
            foreach (ServerLink link in _links)
            {
                link.Dispose();
            }

            _poller.Dispose();
            _commands.Dispose();
            _sealer?.Dispose();
            throw;
        }

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
            if (command.ForgetStream != 0)
            {
                continue;
            }

            command.Call.Fail(CallPolicy.DisposedWhileWaiting(command.Call.Method));
            command.Request?.Return();
        }

        foreach (ServerLink link in _links)
        {
            link.Dispose(); // off the stopped poller
        }

        _poller.Dispose();
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

    /// <inheritdoc/>
    internal override bool PrefetchesStreams => true;

    /// <inheritdoc/>
    internal override bool CloseStream(RpcMethod method, ulong streamId, bool close) =>
        _commands.TryPost(new Command(null!, null, streamId, close ? method : null)) && close;

    // Poller thread.
    private void OnCommand(Command command)
    {
        PendingCall call = command.Call;
        if (command.ForgetStream != 0)
        {
            if (_streamLinks.Remove(command.ForgetStream, out ServerLink? home) && command.CloseMethod is { } method && !home.IsDisposed)
            {
                // A cancel naming the stream: the server ends it at once, ahead of its limits and queue (docs/protocol.md).
                SendCancel(command.ForgetStream, method, home);
            }

            return;
        }

        if (command.Request is not { } request)
        {
            // A cancellation: forget the call, and tell the server, which stops it (or drops it from its queue). It may not
            // even be sent yet (then its send is skipped below).
            if (_pending.Remove(call.RequestId))
            {
                if (call.Link is { } link)
                {
                    SendCancel(call, link);
                }

                EndAttempt(call);
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
        if (_waiting.Count > 0)
        {
            Wait(call); // behind the calls already waiting
            SendWaiting();
        }
        else if (!TrySend(call))
        {
            Wait(call); // no server can take it now
        }

        if (!_deadlineTimer.Enable && !call.Deadline.IsInfinite) // (a waiting call turned the timer on in Wait)
        {
            _deadlineTimer.Enable = true;
        }
    }

    /// <summary>
    /// Sends the call's current attempt to one server: with <see cref="RpcLoadBalancing.LeastInFlight"/> the one with
    /// the fewest calls in flight (ties in turn), with <see cref="RpcLoadBalancing.RoundRobin"/> the next in turn. A
    /// server whose connection is not up (or whose send queue is full) is passed over for the next choice. False when
    /// none took it.
    /// </summary>
    private bool TrySend(PendingCall call)
    {
        RpcRequest request = call.Request!;
        request.NoteAttempt(call.Attempt);
        var header = new RpcHeader(MessageKind.Request, RpcStatus.Ok, call.RequestId, call.Method.ServiceId, call.Method.MethodId,
            call.Deadline.UnixMilliseconds, request.HeaderFlags(call.Attempt) | (_batchesWelcome ? RpcHeader.BatchesWelcomeFlag : 0));
        List<ServerLink> links = _links;
        int count = links.Count;
        if (request.StreamId != 0)
        {
            // A pull or push goes to the server that holds its stream, whatever the bounds, or nowhere: a stream is not
            // resumed on another server or later, so one that cannot be sent now fails (and never blocks the queue).
            if (!(_streamLinks.TryGetValue(request.StreamId, out ServerLink? home) && !home.IsDisposed && TrySendOn(home, call, header, request)))
            {
                StreamLost(call);
            }

            return true;
        }

        if (count == 0)
        {
            return false; // every server left the set: the call waits for one to come
        }

        if (count == 1 && !links[0].Removed)
        {
            return links[0].InFlight < _maxInFlightPerServer && !links[0].Blocked && TrySendOn(links[0], call, header, request);
        }

        long stamp = ++_sendStamp;
        int start = (int)(_nextLink++ % (uint)count);
        for (int tries = 0; tries < count; tries++)
        {
            ServerLink? chosen = null;
            for (int i = 0; i < count; i++)
            {
                ServerLink link = links[(start + i) % count];
                if (link.Removed || link.Blocked || link.TriedAt == stamp || link.InFlight >= _maxInFlightPerServer)
                {
                    continue;
                }

                if (_roundRobin)
                {
                    chosen = link;
                    break;
                }

                if (chosen is null || link.InFlight < chosen.InFlight)
                {
                    chosen = link;
                }
            }

            if (chosen is null)
            {
                return false;
            }

            chosen.TriedAt = stamp;
            if (TrySendOn(chosen, call, header, request))
            {
                return true;
            }
        }

        return false;
    }

    private bool TrySendOn(ServerLink link, PendingCall call, in RpcHeader header, RpcRequest request)
    {
        Debug.Assert(call.Link is null, "a call is in flight on one server at a time");
        if (link.ReadsBatches)
        {
            int size = Frames.BodySize(header, request.Metadata, request.Payload.Length, _sealer);
            bool batched = MessageBatch.Fits(size);
            if (!batched || link.Batch is { IsFull: true })
            {
                SendBatch(link); // what was batched before goes first
                if (link.Blocked)
                {
                    return false;
                }
            }

            if (batched)
            {
                // Leaves at the end of this turn of the poller with whatever else is ready for this server by then.
                Frames.WriteBody(Batch(link).Add(size), header, request.Metadata, request.Payload, _sealer);
                link.BatchedCalls.Add(call.RequestId);
                call.Link = link;
                call.SentOnConnection = link.Connection;
                link.InFlight++;
                return true;
            }
        }

        if (!Frames.TrySend(link.Socket, envelope: null, delimiter: true, header, request.Metadata, request.Payload, TimeSpan.Zero, _sealer))
        {
            return false;
        }

        call.Link = link;
        call.SentOnConnection = link.Connection;
        link.InFlight++;
        return true;
    }

    /// <summary>Poller thread: a stream's pull or push cannot reach the server that holds the stream: it fails.</summary>
    private void StreamLost(PendingCall call)
    {
        _pending.Remove(call.RequestId);
        call.ReleaseRequest();
        call.Fail(new RpcException(RpcStatus.Unavailable,
            $"{call.Method}: the connection to the server that holds this stream is gone, or cannot take more now; the stream ended. " +
            "Call the method again for a new stream."));
    }

    /// <summary>Poller thread: the link's batch, which this turn starts filling if it is empty.</summary>
    private MessageBatch Batch(ServerLink link)
    {
        MessageBatch batch = link.Batch ??= new MessageBatch();
        if (batch.Count == 0)
        {
            _batched.Add(link);
        }

        return batch;
    }

    /// <summary>Poller thread, at the end of each turn: sends what each link batched during it.</summary>
    private void SendBatches()
    {
        if (_batched.Count == 0)
        {
            return;
        }

        foreach (ServerLink link in _batched)
        {
            SendBatch(link);
        }

        _batched.Clear();
    }

    /// <summary>
    /// Sends the link's batch now. When its socket cannot take it (the send queue is full, or with several servers no
    /// connection is up), the calls in it were not sent after all: each waits for a server again, and the link takes no
    /// more until the next timer tick or reply, so they may go elsewhere.
    /// </summary>
    private void SendBatch(ServerLink link)
    {
        if (link.Batch is not { Count: > 0 } batch || link.IsDisposed)
        {
            link.Batch?.Clear();
            link.BatchedCalls.Clear();
            return;
        }

        if (!batch.TrySend(link.Socket, envelope: null, delimiter: true))
        {
            link.Blocked = true;
            foreach (ulong requestId in link.BatchedCalls)
            {
                if (_pending.TryGetValue(requestId, out PendingCall? call) && call.Link == link)
                {
                    EndAttempt(call);
                    Wait(call);
                }
            }
        }

        link.BatchedCalls.Clear();
    }

    /// <summary>Poller thread: the call's attempt could not be sent now; it waits its turn in <see cref="_waiting"/>.</summary>
    private void Wait(PendingCall call)
    {
        call.WaitingToSend = true;
        _waiting.Enqueue(call);
        _deadlineTimer.Enable = true;
    }

    /// <summary>Poller thread: sends the waiting calls, oldest first, until one finds no server that can take it.</summary>
    private void SendWaiting()
    {
        while (_waiting.TryPeek(out PendingCall? call))
        {
            if (!call.WaitingToSend || !_pending.ContainsKey(call.RequestId))
            {
                _waiting.Dequeue(); // failed at its deadline or cancelled meanwhile
                continue;
            }

            if (!TrySend(call))
            {
                return;
            }

            call.WaitingToSend = false;
            _waiting.Dequeue();
        }
    }

    /// <summary>The call's current attempt is over (answered, timed out, cancelled, lost): its server has one call less.</summary>
    private void EndAttempt(PendingCall call)
    {
        if (call.Link is not { } link)
        {
            return;
        }

        call.Link = null;
        link.InFlight--;
        if (link.Removed && link.InFlight == 0)
        {
            // Not now: this may run inside the handler of the link's own socket. The next timer tick closes it.
            (_closing ??= []).Add(link);
            _deadlineTimer.Enable = true;
        }
    }

    private ServerLink NewLink(string endpoint)
    {
        ServerLink link = null!;
        link = new ServerLink(endpoint, _options, _severalServers, _poller, (_, _) => OnReplyReady(link), (_, _) => OnDisconnected(link));
        return link;
    }

    private void CloseLink(ServerLink link)
    {
        SendBatch(link); // a last cancel may wait in it
        _links.Remove(link);
        link.Close(linger: TimeSpan.FromMilliseconds(100)); // time for a cancel just sent on it to leave
    }

    /// <summary>
    /// Poller thread: the connection to a server ended (its process ended, or it went silent past the heartbeat timeout).
    /// Replies that arrived before it are read first; then every call still in flight on that server has lost it: each
    /// fails with <see cref="RpcStatus.Unavailable"/>, or is retried at once (on another server, if one is up) if it
    /// may be. Calls on other servers are untouched.
    /// </summary>
    private void OnDisconnected(ServerLink link)
    {
        link.ReadsBatches = false; // whatever answers next may be another server, of another version: it says so again
        link.Connection++;
        if (_disposed || link.InFlight == 0)
        {
            return;
        }

        // NetMQ reports the loss a moment before the last replies it read reach the socket: the calls in flight now are
        // settled on a timer tick a little later, after those replies have been read.
        long settleAt = Stopwatch.GetTimestamp() + (Stopwatch.Frequency / 50); // 20 ms
        foreach (KeyValuePair<ulong, PendingCall> entry in _pending)
        {
            if (entry.Value.Link == link)
            {
                (_lostCalls ??= []).Add((link, entry.Key, settleAt));
            }
        }

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
    /// Poller thread: connects to endpoints that appeared and stops sending to ones that went. A removed server keeps
    /// its connection until the calls in flight on it have ended (answered, or at their deadline), so leaving a set
    /// fails no call; others are untouched.
    /// </summary>
    private void OnEndpointsResolved(IReadOnlyCollection<string> endpoints)
    {
        var wanted = new HashSet<string>(StringComparer.Ordinal);
        foreach (string endpoint in endpoints)
        {
            try
            {
                Sockets.Endpoints.Validate(endpoint, nameof(IRpcEndpointResolver), "tcp://10.0.0.7:5555");
                wanted.Add(endpoint);
            }
            catch (ArgumentException ex)
            {
                Log.ResolveFailed(Logger, endpoint, ex);
            }
        }

        if (wanted.Count == 0)
        {
            return; // nothing usable: keep what is connected, as when the resolver fails
        }

        var known = new HashSet<string>(StringComparer.Ordinal);
        foreach (ServerLink link in _links.ToArray())
        {
            known.Add(link.Endpoint);
            bool keep = wanted.Contains(link.Endpoint);
            if (keep == !link.Removed)
            {
                continue;
            }

            link.Removed = !keep; // a server that comes back while its last calls end is simply used again
            Log.EndpointChanged(Logger, link.Endpoint, keep);
            if (!keep && link.InFlight == 0)
            {
                CloseLink(link);
            }
        }

        foreach (string endpoint in wanted)
        {
            if (known.Contains(endpoint))
            {
                continue;
            }

            try
            {
                _links.Add(NewLink(endpoint));
                Log.EndpointChanged(Logger, endpoint, connected: true);
            }
            catch (Exception ex) when (ex is ArgumentException or NetMQException or EndpointNotFoundException or
                System.Net.Sockets.SocketException or FormatException)
            {
                Log.ResolveFailed(Logger, endpoint, ex);
            }
        }
    }

    // Poller thread: the calls that were in flight on a lost connection, unanswered there, and due to be settled.
    private void SettleLostCalls(long now)
    {
        List<(ServerLink Link, ulong RequestId, long SettleAt)> lost = _lostCalls!;
        _lostCalls = null;
        foreach ((ServerLink link, _, long settleAt) in lost)
        {
            for (int i = 0; i < 100 && settleAt <= now && !link.IsDisposed && link.Socket.HasIn; i++)
            {
                ReadReplies(link); // every reply that made it
            }
        }

        foreach ((ServerLink link, ulong requestId, long settleAt) in lost)
        {
            if (settleAt > now)
            {
                (_lostCalls ??= []).Add((link, requestId, settleAt)); // lost later, on another link: its turn comes
            }
            else if (_pending.TryGetValue(requestId, out PendingCall? call) && call.Link == link && call.ResendAt == 0)
            {
                AttemptFailed(call, now, CallPolicy.ConnectionLost(call.Method, link.Endpoint));
            }
        }
    }

    /// <summary>
    /// Tells the server that ran the call that nobody waits for it any more (docs/protocol.md, "Cancel"). Best effort:
    /// never blocks, never answered.
    /// </summary>
    private void SendCancel(PendingCall call, ServerLink link) => SendCancel(call.RequestId, call.Method, link);

    /// <summary>A cancel naming <paramref name="requestId"/> (a call, or a stream's opening request) to the server behind <paramref name="link"/>.</summary>
    private void SendCancel(ulong requestId, RpcMethod method, ServerLink link)
    {
        var cancel = new RpcHeader(MessageKind.Cancel, RpcStatus.Ok, requestId, method.ServiceId, method.MethodId, 0);
        if (link.ReadsBatches && !link.IsDisposed)
        {
            // After the request, if it still waits in this turn's batch: the server reads them in order.
            if (link.Batch is { IsFull: true })
            {
                SendBatch(link); // a flood of cancels keeps each batch under the limit too
            }

            Frames.WriteBody(Batch(link).Add(Frames.BodySize(cancel, null, 0, _sealer)), cancel, null, ReadOnlySpan<byte>.Empty, _sealer);
            return;
        }

        Frames.TrySend(link.Socket, envelope: null, delimiter: true, cancel, metadata: null, ReadOnlySpan<byte>.Empty, TimeSpan.Zero, _sealer);
    }

    /// <summary>
    /// An attempt timed out or could not be sent: schedule a retry when the call may be retried (it stays pending, so
    /// a late reply to the earlier attempt still completes it), otherwise fail it.
    /// </summary>
    private void AttemptFailed(PendingCall call, long now, RpcException error)
    {
        call.WaitingToSend = false; // (its entry in the waiting queue, if any, is skipped)
        ServerLink? link = call.Link;
        EndAttempt(call);
        if (call.Request is not { IsStreamPart: true } && CallPolicy.MayRetry(_options, call.Method, error.Status, call.Attempt))
        {
            CallPolicy.NoteRetry(Logger, _options, call.Method, call.Attempt + 1, error.Status);
            TimeSpan backoff = CallPolicy.Backoff(_options, call.Attempt);
            call.Attempt++;
            call.ResendAt = now + (long)(backoff.TotalSeconds * Stopwatch.Frequency);
            return;
        }

        _pending.Remove(call.RequestId);
        if (error.Status == RpcStatus.DeadlineExceeded && link is not null)
        {
            SendCancel(call, link); // the server stops work nobody waits for, even if its clock disagrees about the deadline
        }

        call.ReleaseRequest();
        call.Fail(CallPolicy.AfterAttempts(error, call.Attempt));
    }

    // Poller thread.
    private void OnReplyReady(ServerLink link)
    {
        ReadReplies(link);
        link.Blocked = false; // it moves
        if (_waiting.Count > 0)
        {
            SendWaiting(); // answered calls freed room under MaxCallsInFlightPerServer
        }

        SendBatches();
    }

    private void ReadReplies(ServerLink link)
    {
        DealerSocket socket = link.Socket;
        var delimiter = default(Msg);
        var body = default(Msg);
        delimiter.InitEmpty();
        body.InitEmpty();
        try
        {
            // Drain what is there now (bounded, so queued commands are not starved), then let the poller loop again.
            for (int i = 0; i < 1000 && socket.TryReceive(ref delimiter, TimeSpan.Zero); i++)
            {
                // A reply is [empty delimiter][header + payload]; the rest of a message arrives with its first frame.
                bool more = delimiter.HasMore;
                bool ok = more && delimiter.Size == 0 && socket.TryReceive(ref body, TimeSpan.FromSeconds(1));
                if (ok)
                {
                    more = body.HasMore;
                    ok = !more;
                }

                if (ok)
                {
                    ReadOnlySpan<byte> frame = body.Slice();
                    if (!MessageBatch.IsBatch(frame))
                    {
                        ReadReply(link, frame);
                    }
                    else if (MessageBatch.Check(frame) is null)
                    {
                        int offset = RpcHeader.Size;
                        while (MessageBatch.TryNext(frame, ref offset, out int start, out int length))
                        {
                            ReadReply(link, frame.Slice(start, length));
                        }
                    }

                    // A batch that cannot be read is dropped whole; its calls end at their deadlines.
                }
                else if (more)
                {
                    Frames.DrainRemainingFrames(socket, hasMore: true); // not a TypedZmq reply: dropped whole
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

    /// <summary>One reply, error or refusal from the server behind <paramref name="link"/>.</summary>
    private void ReadReply(ServerLink link, ReadOnlySpan<byte> frame)
    {
        if (RpcHeader.TryParse(frame, out RpcHeader outer, out _) != HeaderParseResult.Ok)
        {
            return;
        }

        if (_pending.TryGetValue(outer.RequestId, out PendingCall? call))
        {
            RpcHeader reply = outer;
            ReadOnlySpan<byte> payload = frame.Slice(RpcHeader.Size);
            if (_sealer is not null && _sealer.Open(frame, outer, out reply, out payload) is not null)
            {
                // Not from the pinned server (or changed on the way): dropped, so that whoever can inject
                // messages cannot fail a call; the real reply may still come, or the deadline ends the call.
                return;
            }

            if (outer.WelcomesBatches && _batchesWelcome && call.Link == link && call.SentOnConnection == link.Connection &&
                (_sealer is null || outer.Kind == MessageKind.SealedReply))
            {
                // This server reads batched requests from now on (docs/protocol.md, "Batches"). Taken only from an
                // answer to an attempt sent on the current connection (a late reply read after a disconnect speaks
                // for the old one) and, in secure mode, only from a sealed answer.
                link.ReadsBatches = true;
            }

            if (reply.Kind == MessageKind.Error && reply.Status is RpcStatus.Unavailable or RpcStatus.DeadlineExceeded)
            {
                // The server could not take it (or it expired in its queue): the same rules as a timeout, if
                // it is about the attempt in flight on this server. An earlier attempt's refusal, arriving
                // late, says nothing about the current one. A successful late reply completes the call anyway.
                if (call.Link == link)
                {
                    AttemptFailed(call, Stopwatch.GetTimestamp(), ReplyDecoder.ToException(call.Method, reply.Status, payload));
                }
            }
            else
            {
                _pending.Remove(outer.RequestId);
                if (call.Link is { } current && current != link)
                {
                    SendCancel(call, current); // an earlier attempt answered: the current one's server may stop
                }

                if (call.Request is { OpensStream: true } && reply.Kind == MessageKind.Reply)
                {
                    _streamLinks[outer.RequestId] = link; // its pulls go to this server
                }

                EndAttempt(call);
                call.ReleaseRequest();
                call.Complete(reply, payload);
            }
        }

        // Otherwise a late reply (its call timed out or was cancelled): dropped.
    }

    // Poller thread. A scan of the calls in flight every few milliseconds: cheaper and simpler than a priority queue,
    // which would keep an entry for every answered call until its deadline passed.
    private void OnDeadlineTimer(object? sender, NetMQTimerEventArgs e)
    {
        long now = Stopwatch.GetTimestamp();
        foreach (ServerLink link in _links)
        {
            link.Blocked = false; // a link whose batch did not fit tries again on each tick
        }

        if (_lostCalls is not null)
        {
            SettleLostCalls(now);
        }

        if (_closing is { } closing)
        {
            _closing = null;
            foreach (ServerLink link in closing)
            {
                if (link.Removed && link.InFlight == 0 && !link.IsDisposed)
                {
                    CloseLink(link);
                }
            }
        }

        bool stillTiming = _lostCalls is not null;
        if (_waiting.Count > 0)
        {
            SendWaiting(); // a connection may have come up, or a send queue drained
        }

        foreach (KeyValuePair<ulong, PendingCall> entry in _pending)
        {
            PendingCall call = entry.Value;
            if (call.WaitingToSend)
            {
                stillTiming = true;
                if (call.DeadlineTimestamp <= now)
                {
                    call.WaitingToSend = false; // its queue entry is skipped later
                    AttemptFailed(call, now, CallPolicy.NotSent(call.Method, _options.Endpoint, call.Deadline.Timeout)); // may remove it: allowed while enumerating
                }

                continue;
            }

            if (call.ResendAt != 0)
            {
                stillTiming = true;
                if (now >= call.ResendAt)
                {
                    call.ResendAt = 0;
                    call.Restart();
                    if (_waiting.Count > 0 || !TrySend(call))
                    {
                        Wait(call); // sent by SendWaiting at the next reply or tick
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
            AttemptFailed(call, now, CallPolicy.NoReply(call.Method, call.Link?.Endpoint ?? _options.Endpoint, call.Deadline.Timeout));
        }

        SendBatches();
        if (!stillTiming && _closing is null && _lostCalls is null && _waiting.Count == 0)
        {
            _deadlineTimer.Enable = false;
        }
    }

    private readonly struct Command
    {
        public Command(PendingCall call, RpcRequest? request, ulong forgetStream = 0, RpcMethod? closeMethod = null)
        {
            Call = call;
            Request = request;
            ForgetStream = forgetStream;
            CloseMethod = closeMethod;
        }

        /// <summary>With <see cref="ForgetStream"/>: the stream's method, when the server is to be told to end it too.</summary>
        public RpcMethod? CloseMethod { get; }

        /// <summary>Nonzero: not a call, but a stream that ended, whose server the channel forgets.</summary>
        public ulong ForgetStream { get; }

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

        /// <summary>The server the current attempt was sent to, until it ends; null between attempts (poller thread).</summary>
        public ServerLink? Link { get; set; }

        /// <summary>Which connection of <see cref="Link"/> the current attempt went out on (<see cref="ServerLink.Connection"/>).</summary>
        public int SentOnConnection { get; set; }

        /// <summary>When to send the next attempt (Stopwatch timestamp), or 0 when none is scheduled.</summary>
        public long ResendAt { get; set; }

        /// <summary>
        /// The current attempt is not sent yet: no server's connection was up, or every send queue was full. The
        /// deadline timer tries again on each tick until its deadline (poller thread).
        /// </summary>
        public bool WaitingToSend { get; set; }

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
