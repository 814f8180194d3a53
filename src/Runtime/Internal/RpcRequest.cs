using System;
using System.Collections.Concurrent;
using System.ComponentModel;
using System.Threading;
using TypedZmq.Protocol;

namespace TypedZmq.Internal;

/// <summary>
/// A request being built by a generated proxy: the method plus its arguments, encoded one after another with
/// MemoryPack into a pooled buffer. Obtained from <see cref="RpcChannel.CreateRequest"/> and handed back to the
/// channel by one of its <c>Invoke</c> methods, which returns it to the pool.
/// Not for direct use: part of the contract between generated code and the runtime.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class RpcRequest
{
    // A per-thread slot serves callers that send on their own thread (request channel); a small shared pool serves
    // the multiplexed channel, where requests are rented on callers' threads and returned on the socket's thread.
    private const int SharedPoolLimit = 256;
    private static readonly ConcurrentQueue<RpcRequest> s_shared = new();
    private static int s_sharedCount;

    [ThreadStatic]
    private static RpcRequest? t_cached;

    private readonly PayloadBuffer _payload = new();
    private RpcMethod? _method;

    private RpcRequest()
    {
    }

    /// <summary>The method being called.</summary>
    public RpcMethod Method => _method ?? throw new InvalidOperationException("This request was already sent.");

    internal ReadOnlySpan<byte> Payload => _payload.WrittenSpan;

    /// <summary>The request id; every attempt of the call carries it.</summary>
    internal ulong RequestId { get; set; }

    /// <summary>How long each attempt waits for its reply.</summary>
    internal TimeSpan Timeout { get; set; }

    /// <summary>Metadata to send with the request, or null for none.</summary>
    internal RpcMetadata? Metadata { get; set; }

    /// <summary>For a pull of a stream: the id of the request that opened it (0 otherwise). Pulls go where the stream is.</summary>
    internal ulong StreamId { get; set; }

    /// <summary>With <see cref="StreamId"/>: a push of a client stream's items rather than a pull.</summary>
    internal bool IsPush { get; set; }

    /// <summary>A stream's open, pull or push: never retried, whatever the retry settings (a stream is not resumed).</summary>
    internal bool IsStreamPart => StreamId != 0 || OpensStream;

    /// <summary>The request opens a stream: the multiplexed channel remembers which server answered it.</summary>
    internal bool OpensStream { get; set; }

    /// <summary>The interceptors' view of the call, when there are interceptors (told how many attempts were made).</summary>
    internal RpcClientContext? Context { get; set; }

    /// <summary>The header flags of attempt <paramref name="attempt"/>: metadata present, attempt number.</summary>
    internal uint HeaderFlags(int attempt) =>
        RpcHeader.RequestFlags(Metadata is { Count: > 0 }, attempt) |
        (StreamId == 0 ? 0 : IsPush ? RpcHeader.StreamPushFlag : RpcHeader.StreamPullFlag);

    /// <summary>Notes that attempt <paramref name="attempt"/> is being made (for the interceptors' view).</summary>
    internal void NoteAttempt(int attempt)
    {
        if (Context is not null)
        {
            Context.Attempts = attempt;
        }
    }

    /// <summary>Appends one argument, encoded with MemoryPack.</summary>
    /// <typeparam name="T">The parameter's declared type.</typeparam>
    /// <param name="value">The argument.</param>
    public void Write<T>(T value)
    {
        try
        {
            PayloadCodec.WriteValue(_payload, value);
        }
        catch (Exception ex) when (ex is not RpcException)
        {
            throw new RpcException(
                RpcStatus.Internal,
                $"Could not encode an argument of type {typeof(T)} for {Method}: {ex.Message} " +
                "Make sure the type is [MemoryPackable] or a type MemoryPack supports.",
                ex);
        }
    }

    internal static RpcRequest Rent(RpcMethod method)
    {
        RpcRequest? request = t_cached;
        if (request is not null)
        {
            t_cached = null;
        }
        else if (s_shared.TryDequeue(out request))
        {
            Interlocked.Decrement(ref s_sharedCount);
        }
        else
        {
            request = new RpcRequest();
        }

        request._method = method;
        return request;
    }

    internal void Return()
    {
        _method = null;
        Metadata = null;
        Context = null;
        StreamId = 0;
        OpensStream = false;
        IsPush = false;
        _payload.Reset();
        if (t_cached is null)
        {
            t_cached = this;
        }
        else if (Interlocked.Increment(ref s_sharedCount) <= SharedPoolLimit)
        {
            s_shared.Enqueue(this);
        }
        else
        {
            Interlocked.Decrement(ref s_sharedCount);
        }
    }
}
