using System;
using NetMQ;
using TypedZmq.Sockets;

namespace TypedZmq.Server;

/// <summary>How both server kinds set up and bind their socket.</summary>
internal static class ServerSockets
{
    /// <summary>
    /// What a ROUTER receives from a routing id whose connection ended: random per server, so that no peer can send it
    /// (and so end its own calls' bookkeeping to get past its limits). No TypedZmq request looks like it either: a request
    /// comes after an empty delimiter frame.
    /// </summary>
    public static byte[] NewDisconnectMarker() => System.Security.Cryptography.RandomNumberGenerator.GetBytes(24);

    /// <summary>Configures and binds <paramref name="socket"/>; disposes it and says what is wrong on failure.</summary>
    public static TSocket Bind<TSocket>(TSocket socket, RpcServerOptions options, out string boundEndpoint, byte[]? disconnectMarker = null)
        where TSocket : NetMQSocket
    {
        try
        {
            socket.Options.MaxMsgSize = options.MaxMessageSize;

            // Replies still queued when the server stops get a bounded chance to leave. Closing does not wait for it:
            // ZeroMQ flushes in the background, and only NetMQConfig.Cleanup would block on it.
            socket.Options.Linger = TimeSpan.FromSeconds(1);
            Heartbeats.Validate(options.HeartbeatInterval, options.HeartbeatTimeout, nameof(RpcServerOptions));
            if (socket is NetMQ.Sockets.RouterSocket)
            {
                // Not on REP: see Heartbeats (found by the suite: a REQ/REP pair with heartbeats lost a request).
                Heartbeats.Apply(socket, options.HeartbeatInterval, options.HeartbeatTimeout);

                // When a client's connection ends (closed, or lost to heartbeats) the ROUTER hands this to the loop
                // from that client's routing id: its calls are then cancelled and its queued requests dropped.
                if (disconnectMarker is not null)
                {
                    socket.Options.DisconnectMessage = disconnectMarker;
                }
            }

            if (options.ConnectToEndpoint)
            {
                // A worker: it connects to a broker's back end, and ZeroMQ reconnects it if the broker restarts.
                Endpoints.Validate(options.Endpoint, "RpcServerOptions.Endpoint", "tcp://broker:5556");
                socket.Connect(options.Endpoint);
                boundEndpoint = options.Endpoint;
                return socket;
            }

            boundEndpoint = BindEndpoint(socket, options.Endpoint);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static string BindEndpoint(NetMQSocket socket, string endpoint)
    {
        Endpoints.Validate(endpoint, "RpcServerOptions.Endpoint", "tcp://*:5555");
        try
        {
            if (endpoint.StartsWith("tcp://", StringComparison.OrdinalIgnoreCase) &&
                (endpoint.EndsWith(":0", StringComparison.Ordinal) || endpoint.EndsWith(":*", StringComparison.Ordinal)))
            {
                string address = endpoint.Substring(0, endpoint.Length - 2);
                int port = socket.BindRandomPort(address);
                return address + ":" + port.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            socket.Bind(endpoint);
            return socket.Options.LastEndpoint ?? endpoint;
        }
        catch (AddressAlreadyInUseException ex)
        {
            throw new InvalidOperationException(
                $"Cannot listen on '{endpoint}': the address is already in use (another process, or another server in this one, " +
                "listens there). Stop it, or choose another endpoint, for example tcp://127.0.0.1:0 for any free port.",
                ex);
        }
        catch (Exception ex) when (ex is NetMQException or ArgumentException or System.Net.Sockets.SocketException)
        {
            throw new InvalidOperationException(
                $"Cannot listen on '{endpoint}': {ex.Message.TrimEnd('.')}. Use the form tcp://*:5555, tcp://127.0.0.1:0 or inproc://name.",
                ex);
        }
    }
}
