using System;

namespace TypedZmq;

/// <summary>Who sent a request, as far as the server can tell.</summary>
public sealed class RpcPeer
{
    internal static readonly RpcPeer Unknown = new(ReadOnlyMemory<byte>.Empty);

    internal RpcPeer(ReadOnlyMemory<byte> routingId)
    {
        RoutingId = routingId;
    }

    /// <summary>
    /// The ZeroMQ routing id of the connection the request came in on (a concurrent server's ROUTER socket); empty on a
    /// reply server, whose REP socket does not tell. Stable for the life of a connection, not across reconnects.
    /// </summary>
    public ReadOnlyMemory<byte> RoutingId { get; }

    /// <summary>The authenticated identity of the client; null until the server authenticates clients.</summary>
    public string? Identity { get; internal set; }

    /// <summary>The identity when known, otherwise the routing id in hex, otherwise <c>unknown</c>.</summary>
    public override string ToString() =>
        Identity ?? (RoutingId.IsEmpty ? "unknown" : Convert.ToHexString(RoutingId.Span));
}
