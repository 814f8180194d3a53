namespace TypedZmq;

/// <summary>How an <see cref="RpcClient"/> talks to its server. Every kind speaks the same frames to every server kind.</summary>
public enum RpcChannelKind
{
    /// <summary>
    /// One ZeroMQ REQ socket, one call at a time; synchronous calls run on the caller's thread with no thread hop.
    /// Concurrent callers take turns. The simplest and lowest-latency choice for one caller at a time.
    /// </summary>
    Request,

    /// <summary>
    /// One ZeroMQ DEALER socket owned by a background thread; any number of calls from any threads are in flight at
    /// once, matched to their replies by request id. The choice for concurrent and asynchronous callers.
    /// </summary>
    Multiplexed,
}
