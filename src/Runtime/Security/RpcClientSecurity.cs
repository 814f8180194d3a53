using System;

namespace TypedZmq;

/// <summary>
/// Secure mode for a client (<see cref="RpcClientOptions.Security"/>): the client's own key pair, which the server
/// must allow, and the server's public key, pinned. Every request is sealed so that only that server can read it and
/// it can tell which allowed key sent it; every reply must be sealed by that server, or the call fails with
/// <see cref="RpcStatus.Unauthenticated"/>. See docs/security.md.
/// </summary>
public sealed class RpcClientSecurity
{
    /// <summary>Secure mode with this client's key pair and the server's public key.</summary>
    /// <param name="clientKey">This client's key pair; its public key must be on the server's allow-list.</param>
    /// <param name="serverKey">The server's public key: replies not sealed with its secret key are refused.</param>
    public RpcClientSecurity(RpcKeyPair clientKey, RpcPublicKey serverKey)
    {
        ClientKey = clientKey ?? throw new ArgumentNullException(nameof(clientKey));
        ServerKey = serverKey ?? throw new ArgumentNullException(nameof(serverKey));
    }

    /// <summary>This client's key pair.</summary>
    public RpcKeyPair ClientKey { get; }

    /// <summary>The pinned public key of the server (every server behind the client's endpoints shares it).</summary>
    public RpcPublicKey ServerKey { get; }
}
