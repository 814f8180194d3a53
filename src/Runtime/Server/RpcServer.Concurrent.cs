using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using NetMQ;
using TypedZmq.Internal;
using TypedZmq.Protocol;
using TypedZmq.Sockets;

namespace TypedZmq;

// The concurrent server: one ROUTER socket on a poller thread, routing envelopes, bounds on running and queued calls.
public sealed partial class RpcServer
{
    private void WakePoller() => _completions?.Wake();

    // Runs on the poller thread: the only thread that touches the socket.
    private void OnRequestReady(object? sender, NetMQSocketEventArgs e)
    {
        // Serve what is there now, bounded so that completions are not starved, then let the poller loop again.
        for (int i = 0; i < 256; i++)
        {
            if (!ReceiveOne())
            {
                return;
            }
        }
    }

    private bool ReceiveOne()
    {
        // After the routing envelope: the message frame, header and payload.
        var frame = default(Msg);
        frame.InitEmpty();
        try
        {
            if (!_socket!.TryReceive(ref frame, TimeSpan.Zero))
            {
                return false;
            }

            if (!ReadEnvelope(ref frame, out byte[][]? envelope))
            {
                return true; // not even a routable message: nothing to answer
            }

            int frames = 1 + (frame.HasMore ? Frames.DrainRemainingFrames(_socket, hasMore: true) : 0);
            if (_draining || Volatile.Read(ref _inFlight) >= Options.MaxConcurrentCalls)
            {
                QueueOrRefuse(envelope, frame.SliceAsMemory(), frames);
                return true;
            }

            Serve(envelope, frame.SliceAsMemory(), frames);
            return true;
        }
        finally
        {
            frame.Close();
        }
    }

    /// <summary>
    /// ROUTER: reads the routing frames up to and including the empty delimiter a REQ or DEALER peer puts before the
    /// body, leaving the first body frame in <paramref name="msg"/>.
    /// </summary>
    private bool ReadEnvelope(ref Msg msg, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out byte[][]? envelope)
    {
        const int MaxRoutingFrames = 16;
        envelope = null;

        // The common case, a direct REQ or DEALER peer: [identity][empty][body...]. Its envelope is cached per peer,
        // so serving a request allocates nothing for routing.
        byte[][] first = EnvelopeFor(ref msg);
        if (!msg.HasMore)
        {
            return RefuseUndelimited(first, more: false);
        }

        msg.Close();
        msg.InitEmpty();
        if (!_socket!.TryReceive(ref msg, TimeSpan.FromSeconds(1)))
        {
            return false;
        }

        if (msg.Size == 0)
        {
            envelope = first;
            return ReadBodyStart(ref msg);
        }

        // Several routing frames (the request came through a proxy): collect them all.
        var frames = new List<byte[]>(first);
        while (true)
        {
            frames.Add(msg.ToArray());
            if (!msg.HasMore || frames.Count > MaxRoutingFrames)
            {
                return RefuseUndelimited(first, msg.HasMore);
            }

            msg.Close();
            msg.InitEmpty();
            if (!_socket.TryReceive(ref msg, TimeSpan.FromSeconds(1)))
            {
                return false;
            }

            if (msg.Size == 0)
            {
                envelope = frames.ToArray();
                return ReadBodyStart(ref msg);
            }
        }
    }

    /// <summary>After the delimiter: leaves the first body frame in <paramref name="msg"/> (empty if there is none).</summary>
    private bool ReadBodyStart(ref Msg msg)
    {
        bool more = msg.HasMore;
        msg.Close();
        msg.InitEmpty();
        return !more || _socket!.TryReceive(ref msg, TimeSpan.FromSeconds(1));
    }

    /// <summary>No delimiter: the peer is not a REQ-style client. Answer through its identity anyway, so it learns why.</summary>
    private bool RefuseUndelimited(byte[][] identity, bool more)
    {
        if (more)
        {
            Frames.DrainRemainingFrames(_socket!, hasMore: true);
        }

        SendError(identity, 0, 0, 0, RpcStatus.BadRequest, null,
            "TypedZmq could not read this request: it has no empty delimiter frame before the header. " +
            "Use a REQ socket, or send an empty frame before the header from a DEALER; see docs/protocol.md.", null);
        return false;
    }

    /// <summary>The one-frame envelope for the identity in <paramref name="msg"/>, cached for NetMQ's 5-byte identities.</summary>
    private byte[][] EnvelopeFor(ref Msg msg)
    {
        ReadOnlySpan<byte> identity = msg.Slice();
        if (identity.Length != 5)
        {
            return [msg.ToArray()];
        }

        ulong key = ((ulong)identity[0] << 32) | System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(identity.Slice(1));
        if (!_envelopes.TryGetValue(key, out byte[][]? envelope))
        {
            if (_envelopes.Count >= 10_000)
            {
                _envelopes.Clear(); // peers come and go; keep the cache bounded
            }

            envelope = [msg.ToArray()];
            _envelopes.Add(key, envelope);
        }

        return envelope;
    }

    private void QueueOrRefuse(byte[][] envelope, ReadOnlyMemory<byte> message, int frames)
    {
        if (!_draining && _queued.Count < Options.MaxQueuedRequests)
        {
            _queued.Enqueue(new QueuedRequest(envelope, message.ToArray(), frames));
            return;
        }

        RpcHeader.TryParse(message.Span, out RpcHeader parsed, out _);
        SendError(envelope, parsed.RequestId, parsed.ServiceId, parsed.MethodId, RpcStatus.Unavailable, null,
            _draining
                ? StoppingMessage
                : $"the server is at its limit ({Options.MaxConcurrentCalls} calls running, {_queued.Count} waiting); the call was not run. Retry later.",
            null);
    }

    /// <summary>Starts queued requests while there is room; refuses them all once the server is stopping.</summary>
    private void PumpQueue()
    {
        while (_queued.Count > 0 && (_draining || _inFlight < Options.MaxConcurrentCalls))
        {
            QueuedRequest next = _queued.Dequeue();
            if (_draining)
            {
                QueueOrRefuse(next.Envelope, next.Message, next.Frames);
            }
            else
            {
                Serve(next.Envelope, next.Message, next.Frames);
            }
        }
    }

    private static async Task CompleteLaterAsync(ValueTask pending, RpcServerCall call, PollerMailbox<RpcServerCall> completions)
    {
        try
        {
            await pending.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            call.Failure = ex;
        }

        // False when the server has stopped while the implementation ran: there is no socket left to answer on, and
        // the result is dropped without waiting for anything.
        completions.TryPost(call);
    }

    // Poller thread.
    private void OnCompletion(RpcServerCall call)
    {
        Finish(call, call.Failure);
        Interlocked.Decrement(ref _inFlight);
    }

    private readonly record struct QueuedRequest(byte[][] Envelope, byte[] Message, int Frames);
}
