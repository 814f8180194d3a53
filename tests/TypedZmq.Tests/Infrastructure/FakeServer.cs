using NetMQ;
using NetMQ.Sockets;
using static TypedZmq.Tests.Infrastructure.WireFormat;

namespace TypedZmq.Tests.Infrastructure;

/// <summary>A server that answers each request (REQ or DEALER peer) with whatever the test scripted, echoing the request id.</summary>
public sealed class FakeServer : IDisposable
{
    private readonly RouterSocket _socket = new();
    private readonly Thread _thread;
    private readonly System.Collections.Concurrent.BlockingCollection<(byte Kind, RpcStatus Status, byte[] Payload)> _answers = new();
    private volatile bool _stop;

    public FakeServer()
    {
        _socket.Options.Linger = TimeSpan.Zero;
        int port = _socket.BindRandomPort("tcp://127.0.0.1");
        Endpoint = "tcp://127.0.0.1:" + port;
        _thread = new Thread(Serve) { IsBackground = true };
        _thread.Start();
    }

    public string Endpoint { get; }

    public void Answer(byte kind, RpcStatus status, byte[] payload) => _answers.Add((kind, status, payload));

    public void Dispose()
    {
        _stop = true;
        _thread.Join(TimeSpan.FromSeconds(5));
        _socket.Dispose();
        _answers.Dispose();
    }

    private void Serve()
    {
        NetMQMessage? request = null;
        while (!_stop)
        {
            if (!_socket.TryReceiveMultipartMessage(TimeSpan.FromMilliseconds(50), ref request))
            {
                continue;
            }

            byte[] frame = request![request.FrameCount - 1].ToByteArray();
            ParsedHeader header = ParseHeader(frame);
            (byte kind, RpcStatus status, byte[] payload) = _answers.Take();
            byte[] replyHeader = Header(kind, header.RequestId, header.ServiceId, header.MethodId, status: (byte)status);
            var reply = new NetMQMessage();
            for (int i = 0; i < request.FrameCount - 1; i++)
            {
                reply.Append(request[i].ToByteArray()); // routing id and the empty delimiter
            }

            reply.Append([.. replyHeader, .. payload]);
            _socket.SendMultipartMessage(reply);
        }
    }
}
