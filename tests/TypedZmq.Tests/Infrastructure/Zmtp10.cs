using System.Net;
using System.Net.Sockets;

namespace TypedZmq.Tests.Infrastructure;

/// <summary>
/// ZMTP/1.0 framing (ZeroMQ 2.x, RFC 13): each frame is a length (one byte, or 0xFF and eight bytes big-endian) that
/// counts a flags byte (bit 0: more frames follow) and the body. The first frame a peer sends is its identity. NetMQ
/// falls back to this when a peer's first byte is not 0xFF, CURVE or not; these peers play the attacker who uses it.
/// </summary>
public static class Zmtp10
{
    public static byte[] Frame(byte[] body, bool more)
    {
        byte flags = more ? (byte)1 : (byte)0;
        if (body.Length + 1 < 0xFF)
        {
            return [(byte)(body.Length + 1), flags, .. body];
        }

        var length = new byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(length, (ulong)body.Length + 1);
        return [0xFF, .. length, flags, .. body];
    }
}

/// <summary>Bytes received on a raw TCP connection, kept in order for tests to search.</summary>
public abstract class RawTcpCapture : IDisposable
{
    private readonly MemoryStream _received = new();
    private readonly CancellationTokenSource _stop = new();

    protected CancellationToken Stopping => _stop.Token;

    public bool ReceivedContains(byte[] needle)
    {
        lock (_received)
        {
            return _received.GetBuffer().AsSpan(0, (int)_received.Length).IndexOf(needle) >= 0;
        }
    }

    public virtual void Dispose()
    {
        _stop.Cancel();
        _stop.Dispose();
    }

    protected async Task CaptureAsync(NetworkStream stream)
    {
        var buffer = new byte[4096];
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, _stop.Token)) > 0)
            {
                lock (_received)
                {
                    _received.Write(buffer, 0, read);
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or IOException or SocketException)
        {
            // closed
        }
    }
}

/// <summary>A raw TCP client that speaks ZMTP/1.0 to a ZeroMQ server.</summary>
public sealed class Zmtp10Peer : RawTcpCapture
{
    private readonly TcpClient _client = new();

    private Zmtp10Peer()
    {
    }

    public static async Task<Zmtp10Peer> ConnectAsync(string endpoint)
    {
        var peer = new Zmtp10Peer();
        await peer._client.ConnectAsync(IPAddress.Loopback, int.Parse(endpoint[(endpoint.LastIndexOf(':') + 1)..]));
        _ = peer.CaptureAsync(peer._client.GetStream());
        return peer;
    }

    public Task SendAsync(byte[] body, bool more) => _client.GetStream().WriteAsync(Zmtp10.Frame(body, more)).AsTask();

    public override void Dispose()
    {
        base.Dispose();
        _client.Dispose();
    }
}

/// <summary>A fake server that answers every connection with a ZMTP/1.0 greeting (an empty identity) and records what arrives.</summary>
public sealed class Zmtp10Server : RawTcpCapture
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly List<TcpClient> _accepted = [];

    private Zmtp10Server()
    {
        _listener.Start();
        Endpoint = "tcp://127.0.0.1:" + ((IPEndPoint)_listener.LocalEndpoint).Port;
    }

    public string Endpoint { get; }

    public static Task<Zmtp10Server> StartAsync()
    {
        var server = new Zmtp10Server();
        _ = server.AcceptAsync();
        return Task.FromResult(server);
    }

    public override void Dispose()
    {
        base.Dispose();
        _listener.Stop();
        lock (_accepted)
        {
            foreach (TcpClient client in _accepted)
            {
                client.Dispose();
            }
        }
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                TcpClient client = await _listener.AcceptTcpClientAsync(Stopping);
                lock (_accepted)
                {
                    _accepted.Add(client);
                }

                await client.GetStream().WriteAsync(Zmtp10.Frame([], more: false), Stopping);
                _ = CaptureAsync(client.GetStream());
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or IOException or SocketException)
        {
            // stopped
        }
    }
}
