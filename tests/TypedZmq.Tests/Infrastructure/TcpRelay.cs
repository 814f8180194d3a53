using System.Net;
using System.Net.Sockets;

namespace TypedZmq.Tests.Infrastructure;

/// <summary>
/// A man in the middle for tests: listens on a loopback port, forwards every connection to a target port, and keeps
/// a copy of every byte that passed in either direction.
/// </summary>
public sealed class TcpRelay : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _targetPort;
    private readonly MemoryStream _captured = new();
    private readonly List<TcpClient> _connections = [];
    private readonly CancellationTokenSource _stop = new();
    private volatile bool _frozen;

    public TcpRelay(string targetEndpoint)
    {
        _targetPort = int.Parse(targetEndpoint[(targetEndpoint.LastIndexOf(':') + 1)..]);
        _listener.Start();
        Endpoint = "tcp://127.0.0.1:" + ((IPEndPoint)_listener.LocalEndpoint).Port;
        _ = AcceptAsync();
    }

    public string Endpoint { get; }

    /// <summary>Everything that crossed the relay so far, both directions.</summary>
    public byte[] Captured()
    {
        lock (_captured)
        {
            return _captured.ToArray();
        }
    }

    public bool CapturedContains(byte[] needle) => Captured().AsSpan().IndexOf(needle) >= 0;

    /// <summary>From now on nothing crosses, but every connection stays open: a network that went silent.</summary>
    public void Freeze() => _frozen = true;

    /// <summary>Closes every connection, as the death of one side's process would.</summary>
    public void Cut()
    {
        lock (_connections)
        {
            foreach (TcpClient connection in _connections)
            {
                connection.Client.Close(0);
            }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        lock (_connections)
        {
            foreach (TcpClient connection in _connections)
            {
                connection.Dispose();
            }
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                TcpClient inbound = await _listener.AcceptTcpClientAsync(_stop.Token);
                var outbound = new TcpClient();
                await outbound.ConnectAsync(IPAddress.Loopback, _targetPort, _stop.Token);
                lock (_connections)
                {
                    _connections.Add(inbound);
                    _connections.Add(outbound);
                }

                _ = PumpAsync(inbound.GetStream(), outbound.GetStream());
                _ = PumpAsync(outbound.GetStream(), inbound.GetStream());
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
        {
            // stopped
        }
    }

    private async Task PumpAsync(NetworkStream from, NetworkStream to)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            int read;
            while ((read = await from.ReadAsync(buffer, _stop.Token)) > 0)
            {
                if (_frozen)
                {
                    continue; // read and dropped, so neither side sees a full buffer or a closed connection
                }

                lock (_captured)
                {
                    _captured.Write(buffer, 0, read);
                }

                await to.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or IOException or SocketException)
        {
            // a side closed, or the relay stopped
        }
    }
}
