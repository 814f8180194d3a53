using System;
using NetMQ;
using TypedZmq.Sockets;

namespace TypedZmq.Client;

/// <summary>How both client channels set up their socket: the same options, the same endpoints.</summary>
internal static class ClientSockets
{
    /// <summary>Configures <paramref name="socket"/> for a client and connects it to every endpoint; disposes it on failure.</summary>
    /// <param name="socket">The new socket.</param>
    /// <param name="options">The client's options.</param>
    /// <param name="endpoints">Where to connect it.</param>
    /// <param name="onlyWhenConnected">
    /// Whether a send fails at once while no connection is up (ZeroMQ's IMMEDIATE), instead of queueing for a server that
    /// may come later: with several servers (<see cref="RpcClientOptions.HasSeveralServers"/>), so that one that is down
    /// takes no calls.
    /// </param>
    public static TSocket Connect<TSocket>(TSocket socket, RpcClientOptions options, string[] endpoints, bool onlyWhenConnected)
        where TSocket : NetMQSocket
    {
        try
        {
            // Never keep unsent requests around after close: a stuck socket must die at once, and Dispose must not wait.
            socket.Options.Linger = TimeSpan.Zero;
            socket.Options.MaxMsgSize = options.MaxMessageSize;
            if (socket is not NetMQ.Sockets.RequestSocket)
            {
                // Not on REQ: see Heartbeats (found by the suite: a REQ/REP pair with heartbeats lost a request).
                Heartbeats.Apply(socket, options.HeartbeatInterval, options.HeartbeatTimeout);
            }
            if (onlyWhenConnected)
            {
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
