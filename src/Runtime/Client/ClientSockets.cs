using System;
using NetMQ;
using TypedZmq.Sockets;

namespace TypedZmq.Client;

/// <summary>How both client channels set up their socket: the same options, the same endpoints.</summary>
internal static class ClientSockets
{
    /// <summary>Configures <paramref name="socket"/> for a client and connects it to every endpoint; disposes it on failure.</summary>
    public static TSocket Connect<TSocket>(TSocket socket, RpcClientOptions options, string[] endpoints)
        where TSocket : NetMQSocket
    {
        try
        {
            // Never keep unsent requests around after close: a stuck socket must die at once, and Dispose must not wait.
            socket.Options.Linger = TimeSpan.Zero;
            socket.Options.MaxMsgSize = options.MaxMessageSize;
            Heartbeats.Validate(options.HeartbeatInterval, options.HeartbeatTimeout, nameof(RpcClientOptions));
            if (socket is not NetMQ.Sockets.RequestSocket)
            {
                // Not on REQ: see Heartbeats (found by the suite: a REQ/REP pair with heartbeats lost a request).
                Heartbeats.Apply(socket, options.HeartbeatInterval, options.HeartbeatTimeout);
            }
            if (endpoints.Length > 1 || options.EndpointResolver is not null)
            {
                // With several servers, send only to those actually connected, so a server that is down takes no calls.
                socket.Options.DelayAttachOnConnect = true;
            }

            foreach (string endpoint in endpoints)
            {
                socket.Connect(endpoint);
            }

            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
