using System;
using System.Collections.Generic;
using System.Threading;
using TypedZmq.Internal;

namespace TypedZmq;

/// <summary>
/// The call a server is serving: what was called, by whom, until when, with which metadata; a place for interceptors
/// and implementations to share state; and the token that ends it. One per call.
/// </summary>
/// <remarks>
/// An implementation reads it from <see cref="Current"/>, without changing the contract interface; an interceptor gets
/// it as its argument. It stays valid after the call ends, but its <see cref="CancellationToken"/> then no longer fires.
/// </remarks>
/// <example>
/// <code>
/// public string SayHello(string greeting)
/// {
///     RpcCallContext call = RpcCallContext.Current!;
///     logger.LogInformation("{Method} from {Peer}, attempt {Attempt}", call.MethodName, call.Peer, call.Attempt);
///     return "World";
/// }
/// </code>
/// </example>
public sealed class RpcCallContext
{
    private static readonly AsyncLocal<RpcCallContext?> s_current = new();

    private readonly CancellationToken _serverStopping;
    private readonly long _deadlineUnixMs;
    private Dictionary<object, object?>? _items;
    private CancellationTokenSource? _cancellation;
    private int _finished;
    private int _cancelledByClient;

    internal RpcCallContext(
        RpcServiceDispatcher service,
        RpcMethod? method,
        uint methodId,
        ulong requestId,
        long deadlineUnixMs,
        int attempt,
        RpcPeer peer,
        RpcMetadata? requestMetadata,
        CancellationToken serverStopping)
    {
        Service = service;
        Method = method;
        MethodId = methodId;
        RequestId = requestId;
        _deadlineUnixMs = deadlineUnixMs;
        Attempt = Math.Max(1, attempt);
        Peer = peer;
        RequestMetadata = requestMetadata ?? new RpcMetadata();
        _serverStopping = serverStopping;
    }

    /// <summary>The call being served on this logical flow (it follows <see langword="await"/>), or null outside a call.</summary>
    public static RpcCallContext? Current => s_current.Value;

    /// <summary>The service's wire name, for example <c>HelloWorld.Contracts.IGreeter</c>.</summary>
    public string ServiceName => Service.ServiceName;

    /// <summary>The service id on the wire.</summary>
    public uint ServiceId => Service.ServiceId;

    /// <summary>The method's name as declared in the contract (its id in hex if the contract was built by an older TypedZmq).</summary>
    public string MethodName => Method?.MethodName ?? $"0x{MethodId:x8}";

    /// <summary>The method id on the wire.</summary>
    public uint MethodId { get; }

    /// <summary>The request id the client chose; every attempt of one call carries the same id.</summary>
    public ulong RequestId { get; }

    /// <summary>When the client stops waiting (its clock, as the request says), or null when it waits forever.</summary>
    public DateTimeOffset? Deadline => _deadlineUnixMs == 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds(_deadlineUnixMs);

    /// <summary>Which attempt of its call this request is, as the client says: 1 for the first, more for a retry.</summary>
    public int Attempt { get; }

    /// <summary>Who sent the request.</summary>
    public RpcPeer Peer { get; }

    /// <summary>The metadata the client sent with the request (empty when none).</summary>
    public RpcMetadata RequestMetadata { get; }

    /// <summary>State that interceptors and the implementation share for this call.</summary>
    public IDictionary<object, object?> Items => _items ??= new Dictionary<object, object?>();

    /// <summary>
    /// Fires when the call's deadline passes, the client cancels the call (a multiplexed client tells the server), or
    /// the server stops. The dispatcher passes it to methods whose last parameter is a
    /// <see cref="System.Threading.CancellationToken"/>.
    /// </summary>
    public CancellationToken CancellationToken
    {
        get
        {
            // Created on first use: a call that never asks pays for no source and no timer.
            CancellationTokenSource? existing = Volatile.Read(ref _cancellation);
            if (existing is not null)
            {
                return existing.Token;
            }

            var created = CancellationTokenSource.CreateLinkedTokenSource(_serverStopping);
            if (_deadlineUnixMs != 0)
            {
                long remaining = _deadlineUnixMs - DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
                created.CancelAfter(TimeSpan.FromMilliseconds(Math.Clamp(remaining, 0, int.MaxValue - 1)));
            }

            CancellationToken token = created.Token; // read now: a disposed source no longer gives its token
            existing = Interlocked.CompareExchange(ref _cancellation, created, null);
            if (existing is not null)
            {
                created.Dispose();
                return existing.Token;
            }

            if (Volatile.Read(ref _cancelledByClient) != 0)
            {
                CancelOffThread(created); // the client cancelled before anyone asked for the token
            }

            if (Volatile.Read(ref _finished) != 0)
            {
                // The call ended while the source was being made: nothing will dispose it later.
                created.Dispose();
            }

            return token;
        }
    }

    /// <summary>
    /// After an interceptor's <c>next</c> returned: the result the implementation produced (boxed), or null for a method
    /// without one. Only filled in when the server has interceptors.
    /// </summary>
    public object? Result { get; internal set; }

    internal RpcServiceDispatcher Service { get; }

    internal CancellationToken ServerStopping => _serverStopping;

    /// <summary>Whether the deadline has passed, or the call's token fired for it (its timer may fire a moment early).</summary>
    internal bool DeadlinePassed =>
        _deadlineUnixMs != 0 &&
        (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() >= _deadlineUnixMs || Volatile.Read(ref _cancellation)?.IsCancellationRequested == true);

    internal RpcMethod? Method { get; }

    /// <summary>Set when the implementation was reached, so an interceptor that neither continues nor throws is caught.</summary>
    internal bool Dispatched { get; set; }

    internal RpcServerCall? ServerCall { get; set; }

    /// <summary>Makes this the <see cref="Current"/> call of the calling flow; returns what was current before.</summary>
    internal static RpcCallContext? Enter(RpcCallContext? context)
    {
        RpcCallContext? previous = s_current.Value;
        s_current.Value = context;
        return previous;
    }

    /// <summary>Whether the client cancelled the call (it sent a cancel message for it).</summary>
    internal bool CancelledByClient => Volatile.Read(ref _cancelledByClient) != 0;

    /// <summary>Loop thread: the client cancelled this call; fire its token (now, or as soon as someone asks for it).</summary>
    internal void CancelByClient()
    {
        Interlocked.Exchange(ref _cancelledByClient, 1); // a full fence: the getter either sees this or publishes first
        if (Volatile.Read(ref _cancellation) is { } source)
        {
            CancelOffThread(source);
        }
    }

    /// <summary>
    /// Cancels on the thread pool: cancellation runs the token's callbacks inline, and a callback that blocks or throws
    /// must not stall or end the server's socket thread.
    /// </summary>
    private static void CancelOffThread(CancellationTokenSource source) =>
        ThreadPool.UnsafeQueueUserWorkItem(
            static source =>
            {
                try
                {
                    source.Cancel();
                }
                catch (Exception ex) when (ex is ObjectDisposedException or AggregateException)
                {
                    // The call finished meanwhile, or a user's callback failed: neither concerns the server.
                }
            },
            source,
            preferLocal: false);

    /// <summary>The call is answered: release its timer.</summary>
    internal void Finish()
    {
        ServerCall = null; // pooled: it serves another request next
        Volatile.Write(ref _finished, 1);
        Interlocked.Exchange(ref _cancellation, null)?.Dispose();
    }
}
