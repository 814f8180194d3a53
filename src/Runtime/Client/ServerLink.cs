using System;
using NetMQ;
using NetMQ.Monitoring;
using NetMQ.Sockets;

namespace TypedZmq.Client;

/// <summary>
/// The multiplexed channel's connection to one server: its own <see cref="DealerSocket"/>, the monitor that reports
/// when that connection is lost, and how many calls are in flight on it. One per endpoint, so the channel knows which
/// server each call went to: it can send the next call to the least busy one, fail only the calls of a lost server,
/// and send a cancel to the server that runs the call. Created, used and disposed on the channel's poller thread only.
/// </summary>
internal sealed class ServerLink : IDisposable
{
    private readonly NetMQPoller _poller;
    private readonly NetMQMonitor _monitor;
    private bool _disposed;

    /// <summary>Connects a socket to <paramref name="endpoint"/> and puts it and its monitor on <paramref name="poller"/>.</summary>
    public ServerLink(string endpoint, RpcClientOptions options, bool onlyWhenConnected, NetMQPoller poller,
        EventHandler<NetMQSocketEventArgs> onReplyReady, EventHandler<NetMQMonitorSocketEventArgs> onDisconnected)
    {
        Endpoint = endpoint;
        _poller = poller;
        Socket = ClientSockets.Connect(new DealerSocket(), options, [endpoint], onlyWhenConnected);
        try
        {
            _monitor = new NetMQMonitor(Socket, $"inproc://typedzmq-monitor-{Guid.NewGuid():N}", SocketEvents.Disconnected);
        }
        catch
        {
            Socket.Dispose();
            throw;
        }

        Socket.ReceiveReady += onReplyReady;
        _monitor.Disconnected += onDisconnected;
        try
        {
            poller.Add(Socket);
            _monitor.AttachToPoller(poller);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Endpoint { get; }

    public DealerSocket Socket { get; }

    /// <summary>Calls whose current attempt was sent on this link and has not ended yet.</summary>
    public int InFlight { get; set; }

    /// <summary>
    /// Gone from the server set: takes no new calls, and is disposed once the calls in flight on it have ended (so a
    /// server leaving a set finishes what it was given, as a pod does in its termination grace period).
    /// </summary>
    public bool Removed { get; set; }

    /// <summary>Which send last tried this link (see the channel's TrySend), so one send tries each link once.</summary>
    public long TriedAt { get; set; }

    public bool IsDisposed => _disposed;

    /// <summary>The server said (in a reply's flags) that it reads batched requests; false again once the connection drops.</summary>
    public bool ReadsBatches { get; set; }

    /// <summary>Counts the connections this link lost: an answer is from the current one only if its attempt was sent since.</summary>
    public int Connection { get; set; }

    /// <summary>Requests (and cancels) waiting for the end of the poller's turn; created on first use.</summary>
    public TypedZmq.Protocol.MessageBatch? Batch { get; set; }

    /// <summary>The request ids of the calls in <see cref="Batch"/>, to settle them if it cannot be sent.</summary>
    public System.Collections.Generic.List<ulong> BatchedCalls { get; } = new();

    /// <summary>Its last batch did not fit in its send queue: it takes no call until the next timer tick or reply.</summary>
    public bool Blocked { get; set; }

    /// <summary>Takes the socket and its monitor off the poller (on its thread, or after it stopped) and closes them.</summary>
    public void Dispose() => Close(TimeSpan.Zero);

    /// <summary>
    /// Like <see cref="Dispose"/>, but lets ZeroMQ go on sending what was queued for up to <paramref name="linger"/> in
    /// the background (a cancel sent just before a removed server's link closes).
    /// </summary>
    public void Close(TimeSpan linger)
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (_monitor.IsRunning)
        {
            _monitor.Dispose(); // detaches from the poller, and must go before its socket
        }

        if (_poller.IsRunning && _poller.CanExecuteTaskInline)
        {
            _poller.Remove(Socket);
        }

        Socket.Options.Linger = linger;
        Socket.Dispose();
        Batch?.Clear();
        BatchedCalls.Clear();
    }
}
