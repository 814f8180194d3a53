using System;
using TypedZmq.Protocol;

namespace TypedZmq.Server;

/// <summary>How a server loop sends a message back on its socket, on its own thread.</summary>
internal interface IReplySender
{
    /// <summary>Sends one reply or error.</summary>
    /// <param name="route">The routing frames of the request on a ROUTER socket; null on a REP socket, which routes by itself.</param>
    /// <param name="header">The reply's header.</param>
    /// <param name="payload">The reply's payload.</param>
    void Send(byte[][]? route, in RpcHeader header, ReadOnlySpan<byte> payload);

    /// <summary>Whether every message read must be answered (a REP socket), even a cancel, which otherwise gets no reply.</summary>
    bool AnswersEveryMessage { get; }

    /// <summary>A client cancelled a request: if it still waits in the loop's queue, it is dropped there, never run.</summary>
    /// <param name="peer">The connection the cancel came on (the loop's peer, as given to the handler).</param>
    /// <param name="requestId">The cancelled request's id.</param>
    void CancelQueued(RpcPeer peer, ulong requestId);
}
