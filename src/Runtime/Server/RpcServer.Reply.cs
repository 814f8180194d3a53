using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using NetMQ;
using TypedZmq.Internal;
using TypedZmq.Protocol;

namespace TypedZmq;

// The reply server: one REP socket served by one thread that blocks on it, one request at a time.
public sealed partial class RpcServer
{
    // The reply server's thread: the only thread that touches its REP socket.
    private void ReplyLoop()
    {
        var msg = default(Msg);
        msg.InitEmpty();
        try
        {
            while (!_stopReplyThread)
            {
                if (!_socket!.TryReceive(ref msg, ReplyWaitSlice))
                {
                    continue;
                }

                int frames = 1 + (msg.HasMore ? Frames.DrainRemainingFrames(_socket, hasMore: true) : 0);
                Serve(envelope: null, msg.SliceAsMemory(), frames);
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
