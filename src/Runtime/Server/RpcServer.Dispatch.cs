using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using NetMQ;
using TypedZmq.Internal;
using TypedZmq.Protocol;

namespace TypedZmq;

// What both server kinds share: checking a request, dispatching it, the reply cache, and sending replies and errors.
public sealed partial class RpcServer
{
    /// <summary>
    /// Serves one request. It counts as in flight from the moment it is read until its reply is sent, so that
    /// <see cref="Stop"/> never mistakes a call that has just started for no call at all.
    /// </summary>
    private void Serve(byte[][]? envelope, ReadOnlyMemory<byte> message, int frames)
    {
        // A full fence: either Stop sees this call, or this call sees that the server is draining (Stop sets the
        // flag, fences, then reads the count).
        Interlocked.Increment(ref _inFlight);
        bool handedOff = false;
        try
        {
            handedOff = ServeCounted(envelope, message, frames);
        }
        finally
        {
            if (!handedOff)
            {
                Interlocked.Decrement(ref _inFlight);
            }
        }
    }

    /// <returns>True when the call continues asynchronously and its completion will end its count.</returns>
    private bool ServeCounted(byte[][]? envelope, ReadOnlyMemory<byte> message, int frames)
    {
        ReadOnlySpan<byte> headerBytes = message.Span;
        HeaderParseResult parsed = RpcHeader.TryParse(headerBytes, out RpcHeader header, out string? error);
        if (parsed != HeaderParseResult.Ok)
        {
            ulong requestId = parsed == HeaderParseResult.NotTypedZmq ? 0 : RpcHeader.PeekRequestId(headerBytes);
            RpcStatus status = parsed == HeaderParseResult.UnsupportedVersion ? RpcStatus.UnsupportedVersion : RpcStatus.BadRequest;
            SendError(envelope, requestId, 0, 0, status, null, "TypedZmq could not read this request: " + error + ".", null);
            return false;
        }

        if (header.Kind != MessageKind.Request)
        {
            SendError(envelope, header.RequestId, header.ServiceId, header.MethodId, RpcStatus.BadRequest, null,
                $"expected a request (message kind 1) but got kind {(byte)header.Kind}.", null);
            return false;
        }

        if (frames != 1)
        {
            SendError(envelope, header.RequestId, header.ServiceId, header.MethodId, RpcStatus.BadRequest, null,
                $"a request is exactly one frame (the header, then the payload) but this one has {frames}.", null);
            return false;
        }

        if (!_services.TryGetValue(header.ServiceId, out RpcServiceDispatcher? dispatcher))
        {
            SendError(envelope, header.RequestId, header.ServiceId, header.MethodId, RpcStatus.Unimplemented, null,
                $"this server hosts no service with id 0x{header.ServiceId:x8} (it hosts {DescribeServices()}). " +
                "Check that the client calls the right endpoint and that the server registers the service with AddService.", null);
            return false;
        }

        if (header.DeadlineUnixMs != 0 && DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() > header.DeadlineUnixMs)
        {
            SendError(envelope, header.RequestId, header.ServiceId, header.MethodId, RpcStatus.DeadlineExceeded, null,
                "the request's deadline passed before the server could run it; it was not run.", null);
            return false;
        }

        if (_draining)
        {
            SendError(envelope, header.RequestId, header.ServiceId, header.MethodId, RpcStatus.Unavailable, null, StoppingMessage, null);
            return false;
        }

        if (Options.ReplyCacheSize > 0 && AnsweredFromCache(envelope, header))
        {
            return false;
        }

        RpcServerCall call = _callPool.Count > 0 ? _callPool.Pop() : new RpcServerCall();
        call.Envelope = envelope;
        call.Begin(header.RequestId, header.ServiceId, header.MethodId, dispatcher.ServiceName, message.Slice(RpcHeader.Size), _stopping.Token);

        ValueTask pending;
        // The poller thread carries NetMQ's SynchronizationContext. An implementation that awaits without
        // ConfigureAwait(false) would capture it, run its continuation on the socket's thread, and after Stop post to a
        // disposed poller (an unhandled exception that ends the process). Implementations run without a context.
        SynchronizationContext? context = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(null);
        try
        {
            pending = dispatcher.DispatchAsync(call);
        }
        catch (Exception ex)
        {
            call.ReleaseArguments();
            Finish(call, ex);
            return false;
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(context);
        }

        // Arguments are decoded before the implementation runs, so the request frame can be closed now.
        call.ReleaseArguments();
        if (!pending.IsCompleted && _replyThread is null)
        {
            // A ROUTER goes on serving others meanwhile; the completion comes back through the queue and ends the count.
            _ = CompleteLaterAsync(pending, call, _completions!);
            return true;
        }

        // Completed already, or a REP socket, which takes no new request until this one is answered: its thread waits.
        Exception? failure = null;
        try
        {
            if (pending.IsCompleted)
            {
                pending.GetAwaiter().GetResult();
            }
            else
            {
                pending.AsTask().GetAwaiter().GetResult();
            }
        }
        catch (Exception ex)
        {
            failure = ex;
        }

        Finish(call, failure);
        return false;
    }

    /// <summary>Answers a call with its result, or with <paramref name="failure"/>, and returns it to the pool.</summary>
    private void Finish(RpcServerCall call, Exception? failure)
    {
        if (failure is null)
        {
            SendReply(call);
        }
        else
        {
            SendFailure(call, failure);
        }

        call.Envelope = null;
        if (_callPool.Count < 256)
        {
            _callPool.Push(call);
        }
    }

    private void SendReply(RpcServerCall call)
    {
        long size = RpcHeader.Size + call.Result.Length;
        if (size > Options.MaxMessageSize)
        {
            // A reply the client would drop unread: tell it why instead.
            SendError(call.Envelope, call.RequestId, call.ServiceId, call.MethodId, RpcStatus.Internal, null,
                $"the reply is {size} bytes, over the server's MaxMessageSize ({Options.MaxMessageSize} bytes); the call ran but its " +
                "result was not sent. Return less per call, or raise the limit on both client and server.", null);
            return;
        }

        var header = new RpcHeader(MessageKind.Reply, RpcStatus.Ok, call.RequestId, call.ServiceId, call.MethodId, 0);
        Send(call.Envelope, header, call.Result);
    }

    /// <summary>
    /// At-most-once: a request id seen before is answered with the reply it got then (or told to retry while the first
    /// attempt still runs), and the call is not run again. A new id is remembered as running.
    /// </summary>
    private bool AnsweredFromCache(byte[][]? envelope, in RpcHeader header)
    {
        if (_replyCache.TryGetValue(header.RequestId, out CachedReply? cached))
        {
            if (cached is null)
            {
                // Sent past Send() on purpose: this answer must not become the cached reply of the running call.
                _errorBuffer.Reset();
                PayloadCodec.WriteError(_errorBuffer, null,
                    "this request is still running: a retry arrived before the first attempt finished. It will not run twice; retry shortly.", null);
                var busy = new RpcHeader(MessageKind.Error, RpcStatus.Unavailable, header.RequestId, header.ServiceId, header.MethodId, 0);
                Frames.TrySend(_socket!, envelope, delimiter: envelope is not null, busy, _errorBuffer.WrittenSpan, TimeSpan.FromSeconds(1));
            }
            else
            {
                Frames.TrySend(_socket!, envelope, delimiter: envelope is not null, cached.Header, cached.Payload, TimeSpan.FromSeconds(1));
            }

            return true;
        }

        _replyCache.Add(header.RequestId, null);
        _replyCacheOrder.Enqueue(header.RequestId);
        while (_replyCacheOrder.Count > Options.ReplyCacheSize)
        {
            _replyCache.Remove(_replyCacheOrder.Dequeue());
        }

        return false;
    }

    private void Send(byte[][]? envelope, in RpcHeader header, ReadOnlySpan<byte> payload)
    {
        if (Options.ReplyCacheSize > 0 && _replyCache.TryGetValue(header.RequestId, out CachedReply? cached) && cached is null)
        {
            _replyCache[header.RequestId] = new CachedReply(header, payload.ToArray());
        }

        // A ROUTER drops a reply to a peer that is gone or whose queue is full; a REP socket always takes it. Never block.
        Frames.TrySend(_socket!, envelope, delimiter: envelope is not null, header, payload, TimeSpan.FromSeconds(1));
    }

    private void SendFailure(RpcServerCall call, Exception exception)
    {
        switch (exception)
        {
            case RpcException rpc:
                SendError(call.Envelope, call.RequestId, call.ServiceId, call.MethodId, rpc.Status, rpc.RemoteExceptionType, rpc.Message,
                    Options.IncludeExceptionDetails ? rpc.ToString() : null);
                break;
            case OperationCanceledException when _stopping.IsCancellationRequested:
                SendError(call.Envelope, call.RequestId, call.ServiceId, call.MethodId, RpcStatus.Cancelled, exception.GetType().FullName,
                    "the server is stopping and cancelled the call.", null);
                break;
            default:
                SendError(call.Envelope, call.RequestId, call.ServiceId, call.MethodId, RpcStatus.RemoteError, exception.GetType().FullName,
                    exception.Message, Options.IncludeExceptionDetails ? exception.ToString() : null);
                break;
        }
    }

    private void SendError(byte[][]? envelope, ulong requestId, uint serviceId, uint methodId, RpcStatus status, string? type, string message, string? detail)
    {
        _errorBuffer.Reset();
        PayloadCodec.WriteError(_errorBuffer, type, message, detail);
        var header = new RpcHeader(MessageKind.Error, status, requestId, serviceId, methodId, 0);
        Send(envelope, header, _errorBuffer.WrittenSpan);
    }

    private string DescribeServices()
    {
        if (_services.Count == 0)
        {
            return "no services";
        }

        var names = new List<string>(_services.Count);
        foreach (RpcServiceDispatcher service in _services.Values)
        {
            names.Add($"{service.ServiceName} (0x{service.ServiceId:x8})");
        }

        return string.Join(", ", names);
    }

    private sealed record CachedReply(RpcHeader Header, byte[] Payload);
}
