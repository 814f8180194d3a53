using System;

namespace TypedZmq;

/// <summary>Who sent a request, as far as the server can tell.</summary>
public sealed class RpcPeer
{
    internal static readonly RpcPeer Unknown = new(ReadOnlyMemory<byte>.Empty);

    internal RpcPeer(ReadOnlyMemory<byte> routingId, RpcPublicKey? publicKey = null, string? identity = null)
    {
        RoutingId = routingId;
        PublicKey = publicKey;
        Identity = identity;
    }

    /// <summary>
    /// The ZeroMQ routing id of the connection the request came in on (a concurrent server's ROUTER socket); empty on a
    /// reply server, whose REP socket does not tell. Stable for the life of a connection, not across reconnects.
    /// </summary>
    public ReadOnlyMemory<byte> RoutingId { get; }

    /// <summary>
    /// The name of the client's key on the server's allow-list (or the name its <see cref="RpcServerSecurity.Authorize"/>
    /// callback gave); null on a server that does not run in secure mode.
    /// </summary>
    public string? Identity { get; }

    /// <summary>
    /// The public key that sealed the request, proven by the seal; null on a server that does not run in secure mode.
    /// Authorize by this (or <see cref="Identity"/>) in an interceptor.
    /// </summary>
    public RpcPublicKey? PublicKey { get; }

    /// <summary>The identity when known, otherwise the routing id in hex, otherwise <c>unknown</c>.</summary>
    public override string ToString() =>
        Identity ?? (RoutingId.IsEmpty ? "unknown" : Convert.ToHexString(RoutingId.Span));
}
