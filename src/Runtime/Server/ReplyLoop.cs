using System;
using System.Threading;
using System.Threading.Tasks;
using NetMQ;
using NetMQ.Sockets;
using TypedZmq.Protocol;

namespace TypedZmq.Server;

/// <summary>
/// The reply server: one REP socket served by one thread that blocks on it, one request at a time. A REP socket takes
/// no new request until the last one is answered, so the thread waits for each call (a poller would only add latency).
/// </summary>
internal sealed class ReplyLoop : IServerLoop, IReplySender
{
    // How often the thread looks up from its socket to see whether it should stop.
    private static readonly TimeSpan WaitSlice = TimeSpan.FromMilliseconds(50);

    private readonly RequestHandler _handler;
    private readonly ResponseSocket _socket;
    private readonly Thread _thread;
    private volatile bool _stop;

    public ReplyLoop(RpcServerOptions options, RequestHandler handler)
    {
        _handler = handler;
        _socket = ServerSockets.Bind(new ResponseSocket(), options, out string bound);
        BoundEndpoint = bound;
        _thread = new Thread(Run) { IsBackground = true, Name = "TypedZmq.RpcServer" };
    }

    public string BoundEndpoint { get; }

    public void Start() => _thread.Start();

    public void Wake()
    {
        // The thread looks at the handler at least every wait slice; nothing waits in a queue here.
    }

    public bool Close(TimeSpan waitForThread)
    {
        _stop = true;

        // A synchronous implementation still running is waited for, within bounds. A thread that does not come back
        // keeps the socket: closing it under the thread is worse.
        if (_thread.IsAlive && !_thread.Join(waitForThread))
        {
            return false;
        }

        _socket.Dispose();
        return true;
    }

    /// <summary>Closes at once, without waiting for the thread (for a server that failed to start).</summary>
    public void Dispose() => Close(TimeSpan.Zero);

    // A REP socket reads the next message only after answering the last, so nothing waits in a queue of ours.
    public bool AnswersEveryMessage => true;

    public void CancelQueued(RpcPeer peer, ulong requestId)
    {
    }

    public void Send(byte[][]? route, in RpcHeader header, ReadOnlySpan<byte> payload) =>
        Frames.TrySend(_socket, header, payload, TimeSpan.FromSeconds(1)); // a REP socket always takes its one reply

    // The loop's thread: the only thread that touches the socket.
    private void Run()
    {
        var msg = default(Msg);
        msg.InitEmpty();
        try
        {
            while (!_stop)
            {
                if (!_socket.TryReceive(ref msg, WaitSlice))
                {
                    continue;
                }

                int frames = 1 + (msg.HasMore ? Frames.DrainRemainingFrames(_socket, hasMore: true) : 0);
                ServerCall? call = _handler.Begin(msg.SliceAsMemory(), frames, RpcPeer.Unknown, route: null, this, out ValueTask pending);
                if (call is not null)
                {
                    Exception? failure = null;
                    try
                    {
                        pending.AsTask().GetAwaiter().GetResult();
                    }
                    catch (Exception ex)
                    {
                        failure = ex;
                    }

                    _handler.Finish(call, failure, route: null, this);
                }

                msg.Close();
                msg.InitEmpty();
            }
        }
        finally
        {
            msg.Close();
        }
    }
}
