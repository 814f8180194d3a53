using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using TypedZmq.Internal;

namespace TypedZmq;

/// <summary>
/// One call a client makes, as its interceptors see it: what is called, its request id, timeout and metadata (which an
/// interceptor may still change before it calls <c>next</c>), state to share, and, once <c>next</c> returned, the result.
/// </summary>
public abstract class RpcClientContext
{
    private Dictionary<object, object?>? _items;
    private TimeSpan _timeout;

    private protected RpcClientContext(RpcRequest request, string endpoint, CancellationToken cancellationToken)
    {
        Request = request;
        Method = request.Method;
        RequestId = request.RequestId;
        Endpoint = endpoint;
        _timeout = request.Timeout;
        RequestMetadata = request.Metadata ?? new RpcMetadata();
        CancellationToken = cancellationToken;
    }

    /// <summary>The service's wire name.</summary>
    public string ServiceName => Method.ServiceName;

    /// <summary>The service id on the wire.</summary>
    public uint ServiceId => Method.ServiceId;

    /// <summary>The method's name as declared in the contract.</summary>
    public string MethodName => Method.MethodName;

    /// <summary>The method id on the wire.</summary>
    public uint MethodId => Method.MethodId;

    /// <summary>Whether the method may run more than once for one call, so the client retries it on a timeout.</summary>
    public bool IsIdempotent => Method.IsIdempotent;

    /// <summary>The request id; every attempt of this call carries it.</summary>
    public ulong RequestId { get; }

    /// <summary>The server endpoint(s) the client calls.</summary>
    public string Endpoint { get; }

    /// <summary>How long each attempt waits for its reply. An interceptor may change it before it calls <c>next</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Set to a value that is not positive (and not infinite).</exception>
    public TimeSpan Timeout
    {
        get => _timeout;
        set
        {
            RpcClientOptions.ValidateTimeout(value, nameof(value));
            _timeout = value;
        }
    }

    /// <summary>The metadata that goes with the request; an interceptor may add to it before it calls <c>next</c>.</summary>
    public RpcMetadata RequestMetadata { get; }

    /// <summary>State that this call's interceptors share.</summary>
    public IDictionary<object, object?> Items => _items ??= new Dictionary<object, object?>();

    /// <summary>The caller's token for this call.</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>How many attempts the call made (more than one when it was retried). Known once <c>next</c> returned or threw.</summary>
    public int Attempts { get; internal set; }

    /// <summary>After <c>next</c> returned: the result (boxed), or null for a method that returns nothing.</summary>
    public object? Result { get; private protected set; }

    internal RpcMethod Method { get; }

    internal RpcRequest Request { get; }

    /// <summary>Whether the request was handed to the channel (which then owns it).</summary>
    internal bool Sent { get; private protected set; }

    /// <summary>Whether the call reached the server and came back with a result.</summary>
    internal bool Completed { get; private protected set; }

    /// <summary>The end of the interceptor chain: sends the request over the channel.</summary>
    internal abstract ValueTask SendAsync();
}
