using System;
using System.Collections.Generic;
using TypedZmq.Protocol;

namespace TypedZmq.Server;

/// <summary>
/// At-most-once execution for clients that retry: remembers the last request ids a server saw, whether each call is
/// still running, and the reply it got, so a retry is answered instead of run again. In secure mode entries are kept per
/// client key: another key that sends the same id (request ids cross the wire in the clear) neither gets that reply
/// nor takes the id from its owner. Loop thread only.
/// </summary>
internal sealed class ReplyCache
{
    private readonly int _capacity;

    // (client key or null, request id) -> the reply sent for it, or null while the call runs.
    private readonly Dictionary<(RpcPublicKey? Owner, ulong RequestId), CachedReply?> _entries = new();
    private readonly Queue<(RpcPublicKey? Owner, ulong RequestId)> _order = new();

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
        if (!_entries.TryGetValue((owner, requestId), out reply))
        {
            return Outcome.New;
        }

        return reply is null ? Outcome.Running : Outcome.Answered;
    }

    /// <summary>Remembers a request id as running; forgets the oldest ids beyond the capacity.</summary>
    public void MarkRunning(ulong requestId, RpcPublicKey? owner)
    {
        _entries[(owner, requestId)] = null;
        _order.Enqueue((owner, requestId));
        while (_order.Count > _capacity)
        {
            _entries.Remove(_order.Dequeue());
        }
    }

    /// <summary>Forgets a request id that is running or answered, so that its next attempt runs.</summary>
    public void Forget(ulong requestId, RpcPublicKey? owner) => _entries.Remove((owner, requestId));

    /// <summary>Keeps the outcome of a call that ran (if its id is still remembered), for its retries.</summary>
    public void Record(in RpcHeader header, ReadOnlySpan<byte> payload, RpcPublicKey? owner)
    {
        if (_entries.TryGetValue((owner, header.RequestId), out CachedReply? existing) && existing is null)
        {
            _entries[(owner, header.RequestId)] = new CachedReply(header, payload.ToArray());
        }
    }

    public sealed record CachedReply(RpcHeader Header, byte[] Payload);
}
