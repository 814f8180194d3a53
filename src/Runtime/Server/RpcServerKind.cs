namespace TypedZmq;

/// <summary>How an <see cref="RpcServer"/> takes requests. Every kind answers every client kind.</summary>
public enum RpcServerKind
{
    /// <summary>
    /// One ZeroMQ REP socket: one request at a time, answered in order. The simplest server; a slow call delays the next.
    /// </summary>
    Reply,

    /// <summary>
    /// One ZeroMQ ROUTER socket: many requests in flight at once. Asynchronous implementations run concurrently, up to
    /// <see cref="RpcServerOptions.MaxConcurrentCalls"/>; requests beyond that wait in a bounded queue
    /// (<see cref="RpcServerOptions.MaxQueuedRequests"/>) and beyond the queue get <see cref="RpcStatus.Unavailable"/>.
    /// </summary>
    Concurrent,
}
