using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using NetMQ;
using NetMQ.Sockets;
using TypedZmq.Diagnostics;
using TypedZmq.Protocol;
using TypedZmq.Security;
using TypedZmq.Sockets;

namespace TypedZmq.Server;

/// <summary>
/// The concurrent server: one ROUTER socket on a poller thread. Requests start as they arrive, up to
/// <see cref="RpcServerOptions.MaxConcurrentCalls"/>; more wait in a bounded queue, and beyond it are refused. Calls that
/// complete later come back through a <see cref="PollerMailbox{T}"/>, so only the poller thread touches the socket.
/// </summary>
internal sealed class RouterLoop : IServerLoop, IReplySender
{
    private const int MaxRoutingFrames = 16;

    private readonly RpcServerOptions _options;
    private readonly RequestHandler _handler;
    private readonly RouterSocket _socket;
    private readonly PollerMailbox<Completion> _completions;
    private readonly NetMQPoller _poller;

    // Poller thread only.
    private readonly Dictionary<ulong, Peer> _peers = new(); // NetMQ's own 5-byte routing ids
    private readonly Dictionary<string, Peer> _namedPeers = new(); // routing ids peers chose themselves
    private readonly Queue<QueuedRequest> _queued = new();
    private readonly byte[] _disconnectMarker = ServerSockets.NewDisconnectMarker();
    private readonly Dictionary<(RpcPeer Peer, ulong RequestId), int> _queuedIds = new(); // what waits in _queued, to find it at once
    private int _queuedCount;
    private int _connectionsLost;
    private readonly HashSet<(RpcPeer Peer, ulong RequestId)> _cancelledQueued = new(); // waiting, but nobody waits for them
    private readonly List<Peer> _batched = new(); // peers with answers batched in this turn of the poller
    private readonly bool _batchesWelcome; // MaxMessageSize takes the largest batch: this server invites them

    public RouterLoop(RpcServerOptions options, RequestHandler handler)
    {
        _options = options;
        _handler = handler;
        _socket = ServerSockets.Bind(new RouterSocket(), options, out string bound, _disconnectMarker);
        BoundEndpoint = bound;
        _completions = new PollerMailbox<Completion>(OnCompletion, afterBatch: () =>
        {
            PumpQueue();
            SendBatches();
        });
        _poller = new NetMQPoller { _socket };
        _completions.AttachTo(_poller);
        _socket.ReceiveReady += OnRequestReady;
        _batchesWelcome = options.MaxMessageSize >= MessageBatch.MaxFrameSize;
    }

    public string BoundEndpoint { get; }

    /// <summary>Client connections that ended (closed, or lost to heartbeats) since the server started.</summary>
    public int ConnectionsLost => Volatile.Read(ref _connectionsLost);

    /// <summary>Requests waiting for a slot (read from any thread; for tests and diagnostics).</summary>
    public int QueuedCount => Volatile.Read(ref _queuedCount);

    public void Start() => _poller.RunAsync("TypedZmq.RpcServer.Concurrent", isBackgroundThread: true);

    public void Wake() => _completions.Wake();

    public bool Close(TimeSpan waitForThread)
    {
        // Calls that end from now on find the mailbox closed and are dropped without waiting for anything.
        _completions.Close();
        if (_poller.IsRunning)
        {
            _poller.Stop();
        }

        _poller.Dispose();
        _socket.Dispose();
        _completions.Dispose();
        return true;
    }

    /// <summary>Closes at once, without waiting for the thread (for a server that failed to start).</summary>
    public void Dispose() => Close(TimeSpan.Zero);

    public bool AnswersEveryMessage => false;

    // Poller thread (called by the handler while it reads a cancel).
    public void CancelQueued(RpcPeer peer, ulong requestId)
    {
        if (_queuedIds.ContainsKey((peer, requestId)))
        {
            _cancelledQueued.Add((peer, requestId));
        }
    }

    // Poller thread. A ROUTER drops a reply to a peer that is gone or whose queue is full; it never blocks.
    public void Send(byte[][]? route, in RpcHeader header, ReadOnlySpan<byte> payload)
    {
        if (!_batchesWelcome || route is not { Length: 1 } || route[0].Length != 5 || !_peers.TryGetValue(KeyOf(route[0]), out Peer? peer))
        {
            // Through a proxy (or to a peer gone meanwhile): plain messages only, and no invitation to batch, since
            // whatever sits between might deal a batch to a server that cannot read it.
            Frames.TrySend(_socket, route, delimiter: route is not null, header, payload, TimeSpan.FromSeconds(1));
            return;
        }

        // A peer connected directly is told, in every answer, that this server reads batched requests.
        RpcHeader invited = header.WithFlags(header.Flags | RpcHeader.BatchesWelcomeFlag);
        int size = RpcHeader.Size + payload.Length;
        if (!peer.ReadsBatches || !MessageBatch.Fits(size))
        {
            peer.Batch?.TrySend(_socket, peer.Route, delimiter: true); // what was batched before goes first
            Frames.TrySend(_socket, route, delimiter: true, invited, payload, TimeSpan.FromSeconds(1));
            return;
        }

        // Sent at the end of this turn of the poller (SendBatches), with whatever else is ready for this peer by then.
        MessageBatch batch = peer.Batch ??= new MessageBatch();
        if (batch.Count == 0)
        {
            _batched.Add(peer);
        }

        Span<byte> message = batch.Add(size);
        invited.Write(message);
        payload.CopyTo(message.Slice(RpcHeader.Size));
        if (batch.IsFull)
        {
            batch.TrySend(_socket, peer.Route, delimiter: true);
        }
    }

    /// <summary>Poller thread, at the end of each turn: sends the answers batched for each peer during it.</summary>
    private void SendBatches()
    {
        foreach (Peer peer in _batched)
        {
            peer.Batch?.TrySend(_socket, peer.Route, delimiter: true);
        }

        _batched.Clear();
    }

    // Poller thread.
    private void OnRequestReady(object? sender, NetMQSocketEventArgs e)
    {
        // Serve what is there now, bounded so that completions are not starved, then let the poller loop again. The
        // answers given meanwhile to peers that read batches leave together at the end.
        try
        {
            for (int i = 0; i < 256; i++)
            {
                if (!ReceiveOne())
                {
                    return;
                }
            }
        }
        finally
        {
            SendBatches();
        }
    }

    private bool ReceiveOne()
    {
        var frame = default(Msg);
        frame.InitEmpty();
        try
        {
            if (!_socket.TryReceive(ref frame, TimeSpan.Zero))
            {
                return false;
            }

            if (!ReadEnvelope(ref frame, out Peer? peer))
            {
                return true; // not even a routable message: nothing (more) to answer
            }

            int frames = 1 + (frame.HasMore ? Frames.DrainRemainingFrames(_socket, hasMore: true) : 0);
            ReadOnlyMemory<byte> message = frame.SliceAsMemory();
            if (MessageBatch.IsBatch(message.Span))
            {
                ReceiveBatch(peer, message, frames);
            }
            else
            {
                Accept(peer, message, frames);
            }

            return true;
        }
        finally
        {
            frame.Close();
        }
    }

    /// <summary>
    /// A batch (docs/protocol.md, "Batches"): its structure is checked whole before any message in it is used, then
    /// each message is taken as if it had come alone, in order. A batch that cannot be read is refused whole, unrun.
    /// </summary>
    private void ReceiveBatch(Peer peer, ReadOnlyMemory<byte> batch, int frames)
    {
        string? error = frames > 1 ? $"a batch is one frame, but this message has {frames}" : MessageBatch.Check(batch.Span);
        if (error is not null)
        {
            _handler.Refuse(batch.Span, peer.Info, peer.Route, this, RpcStatus.BadRequest,
                "TypedZmq could not read this batch: " + error + "; nothing in it was run. See docs/protocol.md, \"Batches\".");
            return;
        }

        int offset = RpcHeader.Size;
        while (MessageBatch.TryNext(batch.Span, ref offset, out int start, out int length))
        {
            Accept(peer, batch.Slice(start, length), 1); // (a batch inside a batch is refused there, as a kind it does not read)
        }
    }

    /// <summary>One message: a cancel at once, a request served, queued or refused by the limits.</summary>
    private void Accept(Peer peer, ReadOnlyMemory<byte> message, int frames)
    {
        ReadOnlySpan<byte> bytes = message.Span;
        if (!peer.ReadsBatches && peer.Route.Length == 1 && bytes.Length >= 8 && bytes[0] == RpcHeader.Magic &&
            (bytes[4] & RpcHeader.BatchesWelcomeFlag) != 0 && bytes[2] is (byte)MessageKind.Request or (byte)MessageKind.SealedRequest)
        {
            peer.ReadsBatches = true; // a client that reads batched answers, connected directly
        }

        if (RpcHeader.LooksLikeCancel(bytes))
        {
            // Read at once, whatever the limits: a cancel frees capacity, and what it cancels may be in the queue.
            peer.Calls++;
            Serve(peer, message, frames);
            return;
        }

        if (peer.Calls >= _options.MaxCallsPerPeer)
        {
            _handler.Refuse(bytes, peer.Info, peer.Route, this, RpcStatus.ResourceExhausted,
                $"this connection already has {peer.Calls} calls running or waiting on the server, its limit (MaxCallsPerPeer); " +
                "the call was not run. Wait for some to finish, or spread the calls over more servers.");
            return;
        }

        peer.Calls++;
        if (_handler.IsDraining || _handler.InFlight >= _options.MaxConcurrentCalls)
        {
            QueueOrRefuse(peer, message, frames);
        }
        else
        {
            Serve(peer, message, frames);
        }
    }

    private void Serve(Peer peer, ReadOnlyMemory<byte> message, int frames)
    {
        ServerCall? call = _handler.Begin(message, frames, peer.Info, peer.Route, this, out ValueTask pending);
        if (call is null)
        {
            peer.Calls--; // answered already
        }
        else
        {
            // The socket goes on serving others meanwhile; the completion comes back through the mailbox.
            _ = CompleteLaterAsync(pending, call, peer);
        }
    }

    private async Task CompleteLaterAsync(ValueTask pending, ServerCall call, Peer peer)
    {
        Exception? failure = null;
        try
        {
            await pending.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            failure = ex;
        }

        // False when the server has stopped while the implementation ran: there is no socket left to answer on, and
        // the result is dropped without waiting for anything.
        _completions.TryPost(new Completion(call, peer, failure));
    }

    // Poller thread.
    private void OnCompletion(Completion completion)
    {
        completion.Peer.Calls--;
        _handler.Finish(completion.Call, completion.Failure, completion.Peer.Route, this);
    }

    private void QueueOrRefuse(Peer peer, ReadOnlyMemory<byte> message, int frames)
    {
        if (!_handler.MayQueue(message.Span))
        {
            peer.Calls--;
            _handler.Refuse(message.Span, peer.Info, peer.Route, this, RpcStatus.Unauthenticated, ServerGate.NotAllowed + ".");
            return;
        }

        // Requests cancelled while they wait still sit in the queue until it is pumped; they take no room from others.
        if (!_handler.IsDraining && _queued.Count - _cancelledQueued.Count < _options.MaxQueuedRequests)
        {
            _queued.Enqueue(new QueuedRequest(peer, message.ToArray(), frames));
            CollectionsMarshal.GetValueRefOrAddDefault(_queuedIds, (peer.Info, RpcHeader.PeekRequestId(message.Span)), out _)++;
            Volatile.Write(ref _queuedCount, _queued.Count);
            Telemetry.ServerQueued.Add(1);
            return;
        }

        peer.Calls--;
        _handler.Refuse(message.Span, peer.Info, peer.Route, this, RpcStatus.Unavailable,
            _handler.IsDraining
                ? ServerErrors.Stopping
                : $"the server is at its limit ({_options.MaxConcurrentCalls} calls running, {_queued.Count} waiting); the call was not run. Retry later.");
    }

    /// <summary>Starts queued requests while there is room; refuses them all once the server is stopping.</summary>
    private void PumpQueue()
    {
        while (_queued.Count > 0 && (_handler.IsDraining || _handler.InFlight < _options.MaxConcurrentCalls))
        {
            QueuedRequest next = _queued.Dequeue();
            (RpcPeer, ulong) id = (next.Peer.Info, RpcHeader.PeekRequestId(next.Message));
            if (--CollectionsMarshal.GetValueRefOrNullRef(_queuedIds, id) == 0)
            {
                _queuedIds.Remove(id);
            }

            Volatile.Write(ref _queuedCount, _queued.Count);
            Telemetry.ServerQueued.Add(-1);
            if (_cancelledQueued.Count > 0 && _cancelledQueued.Remove((next.Peer.Info, RpcHeader.PeekRequestId(next.Message))))
            {
                next.Peer.Calls--; // cancelled while it waited: dropped unrun and unanswered (its client has moved on)
                continue;
            }

            if (_handler.IsDraining)
            {
                QueueOrRefuse(next.Peer, next.Message, next.Frames);
            }
            else
            {
                Serve(next.Peer, next.Message, next.Frames);
            }
        }
    }

    /// <summary>
    /// Reads the routing frames up to and including the empty delimiter a REQ or DEALER peer puts before the body,
    /// leaving the first body frame in <paramref name="msg"/>.
    /// </summary>
    private bool ReadEnvelope(ref Msg msg, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Peer? peer)
    {
        // The common case, a direct REQ or DEALER peer: [identity][empty][body...]. Its route is cached per peer, so
        // serving a request allocates nothing for routing. Through a proxy there are more routing frames.
        peer = null;
        Peer first = PeerFor(ref msg);
        List<byte[]>? more = null;
        while (true)
        {
            if (!msg.HasMore || more?.Count >= MaxRoutingFrames)
            {
                if (msg.HasMore)
                {
                    Frames.DrainRemainingFrames(_socket, hasMore: true);
                }

                _handler.RefuseUnroutable(first.Route, this);
                return false;
            }

            if (!ReceiveNext(ref msg))
            {
                return false;
            }

            if (more is null && !msg.HasMore && msg.Slice().SequenceEqual(_disconnectMarker))
            {
                ConnectionLost(first);
                return false;
            }

            if (msg.Size == 0)
            {
                peer = more is null ? first : new Peer([.. first.Route, .. more], first.Info);
                return ReadBodyStart(ref msg);
            }

            (more ??= []).Add(msg.ToArray());
        }
    }

    /// <summary>
    /// A client's connection ended (closed, or lost to heartbeats): its running calls' tokens fire, its queued requests
    /// are dropped unrun, and its routing id is forgotten (a reconnecting client gets a new one).
    /// </summary>
    private void ConnectionLost(Peer peer)
    {
        Interlocked.Increment(ref _connectionsLost);
        _handler.ConnectionLost(peer.Info);
        foreach (QueuedRequest queued in _queued)
        {
            if (queued.Peer == peer)
            {
                _cancelledQueued.Add((peer.Info, RpcHeader.PeekRequestId(queued.Message)));
            }
        }

        byte[] id = peer.Route[0];
        if (id.Length == 5)
        {
            _peers.Remove(KeyOf(id));
        }
        else
        {
            _namedPeers.Remove(Convert.ToHexString(id));
        }
    }

    /// <summary>After the delimiter: leaves the first body frame in <paramref name="msg"/> (empty if there is none).</summary>
    private bool ReadBodyStart(ref Msg msg)
    {
        if (!msg.HasMore)
        {
            msg.Close();
            msg.InitEmpty();
            return true;
        }

        return ReceiveNext(ref msg);
    }

    /// <summary>The next frame of a message whose first frames arrived: the rest arrives with them, the wait is a safety net.</summary>
    private bool ReceiveNext(ref Msg msg)
    {
        msg.Close();
        msg.InitEmpty();
        return _socket.TryReceive(ref msg, TimeSpan.FromSeconds(1));
    }

    /// <summary>The route and peer for the identity in <paramref name="msg"/>, cached for NetMQ's 5-byte identities.</summary>
    private Peer PeerFor(ref Msg msg)
    {
        ReadOnlySpan<byte> identity = msg.Slice();
        if (identity.Length != 5)
        {
            // A peer that chose its own routing id (Options.Identity): looked up by its bytes, so it is counted too.
            string named = Convert.ToHexString(identity);
            return Cached(_namedPeers, named, ref msg);
        }

        return Cached(_peers, KeyOf(identity), ref msg);
    }

    /// <summary>The cache key of one of NetMQ's own 5-byte routing ids.</summary>
    private static ulong KeyOf(ReadOnlySpan<byte> identity) =>
        ((ulong)identity[0] << 32) | System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(identity.Slice(1));

    private static Peer Cached<TKey>(Dictionary<TKey, Peer> peers, TKey key, ref Msg msg)
        where TKey : notnull
    {
        if (peers.TryGetValue(key, out Peer? peer))
        {
            return peer;
        }

        if (peers.Count >= 10_000)
        {
            // Peers come and go; keep the cache bounded. Peers with calls in flight stay, so their count holds.
            foreach (KeyValuePair<TKey, Peer> idle in peers)
            {
                if (idle.Value.Calls == 0)
                {
                    peers.Remove(idle.Key);
                }
            }
        }

        byte[] id = msg.ToArray();
        peer = new Peer([id], new RpcPeer(id));
        peers.Add(key, peer);
        return peer;
    }

    /// <summary>
    /// Where replies to one connection go (its envelope, never written after creation), who it is, and how many of its
    /// calls are running or queued (poller thread only). Through a proxy each message has a peer of its own, uncounted:
    /// the proxy's connection carries many clients.
    /// </summary>
    private sealed class Peer(byte[][] route, RpcPeer info)
    {
        public byte[][] Route { get; } = route;

        public RpcPeer Info { get; } = info;

        public int Calls { get; set; }

        /// <summary>A client connected directly whose requests said it reads batched answers (poller thread only).</summary>
        public bool ReadsBatches { get; set; }

        /// <summary>Answers to this peer waiting for the end of the poller's turn; created on first use.</summary>
        public MessageBatch? Batch { get; set; }
    }

    private readonly record struct QueuedRequest(Peer Peer, byte[] Message, int Frames);

    private readonly record struct Completion(ServerCall Call, Peer Peer, Exception? Failure);
}
