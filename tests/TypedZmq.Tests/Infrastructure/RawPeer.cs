using NetMQ;
using NetMQ.Sockets;

namespace TypedZmq.Tests.Infrastructure;

/// <summary>
/// A plain NetMQ DEALER that talks to a REP server the way a REQ socket would (empty delimiter first), but can send
/// any frames at all and pipeline several messages: a peer that is not TypedZmq.
/// </summary>
public sealed class RawPeer : IDisposable
{
    private readonly DealerSocket _socket = new();

    public RawPeer(string endpoint)
    {
        _socket.Options.Linger = TimeSpan.Zero;
        _socket.Connect(endpoint);
    }

    public void Send(params byte[][] frames)
    {
        var message = new NetMQMessage();
        message.AppendEmptyFrame();
        foreach (byte[] frame in frames)
        {
            message.Append(frame);
        }

        Assert.True(_socket.TrySendMultipartMessage(TimeSpan.FromSeconds(5), message), "the raw peer could not send");
    }

    /// <summary>Receives one reply and returns its frames after the empty delimiter, or null on timeout.</summary>
    public List<byte[]>? TryReceive(TimeSpan timeout)
    {
        NetMQMessage? message = null;
        if (!_socket.TryReceiveMultipartMessage(timeout, ref message))
        {
            return null;
        }

        Assert.True(message![0].IsEmpty, "a REP reply starts with the empty delimiter");
        return message.Skip(1).Select(frame => frame.ToByteArray()).ToList();
    }

    public List<byte[]> Receive()
    {
        List<byte[]>? reply = TryReceive(TimeSpan.FromSeconds(5));
        Assert.True(reply is not null, "no reply within 5 s");
        return reply!;
    }

    public List<byte[]> Exchange(params byte[][] frames)
    {
        Send(frames);
        return Receive();
    }

    public void Dispose() => _socket.Dispose();
}
