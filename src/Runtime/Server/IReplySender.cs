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
}
