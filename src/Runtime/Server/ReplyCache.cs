using System;
using System.Collections.Generic;
using TypedZmq.Protocol;

namespace TypedZmq.Server;

/// <summary>
/// At-most-once execution for clients that retry: remembers the last request ids a server saw, whether each call is
/// still running, and the reply it got, so a retry is answered instead of run again. In secure mode each entry belongs
/// to the client key that sent the request: another key that sends the same id (request ids cross the wire in the clear)
/// never gets that reply. Loop thread only.
/// </summary>
internal sealed class ReplyCache
{
    private readonly int _capacity;

    // request id -> who sent it and the reply sent for it (null while the call runs).
    private readonly Dictionary<ulong, Entry> _entries = new();
    private readonly Queue<ulong> _order = new();

    public ReplyCache(int capacity) => _capacity = capacity;

    public enum Outcome
    {
        /// <summary>Not seen (or forgotten): run the call.</summary>
        New,

        /// <summary>The first attempt is still running: tell the client to retry later.</summary>
        Running,

        /// <summary>Answered before: send <c>reply</c> again.</summary>
        Answered,
    }

    /// <summary>Looks a request id up, for the client key that sent it (null outside secure mode).</summary>
    public Outcome TryAnswer(ulong requestId, RpcPublicKey? owner, out CachedReply? reply)
    {
        reply = null;
        if (!_entries.TryGetValue(requestId, out Entry? entry) || !Equals(entry.Owner, owner))
        {
            return Outcome.New;
        }

        reply = entry.Reply;
        return reply is null ? Outcome.Running : Outcome.Answered;
    }

    /// <summary>Remembers a request id as running; forgets the oldest ids beyond the capacity.</summary>
    public void MarkRunning(ulong requestId, RpcPublicKey? owner)
    {
        if (_entries.ContainsKey(requestId))
        {
            return; // another key's entry under the same id: this call runs, unremembered
        }

        _entries[requestId] = new Entry(owner);
        _order.Enqueue(requestId);
        while (_order.Count > _capacity)
        {
            _entries.Remove(_order.Dequeue());
        }
    }

    /// <summary>Keeps the outcome of a call that ran (if its id is still remembered), for its retries.</summary>
    public void Record(in RpcHeader header, ReadOnlySpan<byte> payload, RpcPublicKey? owner)
    {
        if (_entries.TryGetValue(header.RequestId, out Entry? entry) && entry.Reply is null && Equals(entry.Owner, owner))
        {
            entry.Reply = new CachedReply(header, payload.ToArray());
        }
    }

    public sealed record CachedReply(RpcHeader Header, byte[] Payload);

    private sealed class Entry(RpcPublicKey? owner)
    {
        public RpcPublicKey? Owner { get; } = owner;

        public CachedReply? Reply { get; set; }
    }
}
