using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Threading.Tasks;

namespace TypedZmq.Internal;

/// <summary>
/// Decodes a request's arguments by method id, calls the service implementation and encodes its result.
/// Generated once per service interface.
/// Not for direct use: part of the contract between generated code and the runtime.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public abstract class RpcServiceDispatcher
{
    private readonly Dictionary<uint, RpcMethod>? _methods;

    /// <summary>Creates a dispatcher for one service whose methods the server cannot list (code from TypedZmq 0.1).</summary>
    /// <param name="serviceName">The service's wire name.</param>
    /// <param name="serviceId">The service id.</param>
    protected RpcServiceDispatcher(string serviceName, uint serviceId)
    {
        ServiceName = serviceName;
        ServiceId = serviceId;
    }

    /// <summary>Creates a dispatcher for one service and its methods.</summary>
    /// <param name="serviceName">The service's wire name.</param>
    /// <param name="serviceId">The service id.</param>
    /// <param name="methods">Every method of the service, so that the server can name a call and refuse unknown methods before dispatch.</param>
    protected RpcServiceDispatcher(string serviceName, uint serviceId, RpcMethod[] methods)
        : this(serviceName, serviceId)
    {
        ArgumentNullException.ThrowIfNull(methods);

        // Generated code passes the same static array every time: index it once (a per-call dispatcher is made for
        // every call of a service hosted per call).
        _methods = Indexes.GetValue(methods, static all =>
        {
            var index = new Dictionary<uint, RpcMethod>(all.Length);
            foreach (RpcMethod method in all)
            {
                index[method.MethodId] = method;
            }

            return index;
        });
    }

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<RpcMethod[], Dictionary<uint, RpcMethod>> Indexes = new();

    /// <summary>A dispatcher with the name, id and methods of <paramref name="prototype"/> (for wrappers in the runtime).</summary>
    private protected RpcServiceDispatcher(RpcServiceDispatcher prototype)
    {
        ServiceName = prototype.ServiceName;
        ServiceId = prototype.ServiceId;
        _methods = prototype._methods;
    }

    /// <summary>The service's wire name.</summary>
    public string ServiceName { get; }

    /// <summary>The service id.</summary>
    public uint ServiceId { get; }

    /// <summary>Whether the dispatcher was given its methods, so that a method it does not list is unknown.</summary>
    internal bool KnowsItsMethods => _methods is not null;

    /// <summary>
    /// Runs the method that <see cref="RpcServerCall.MethodId"/> names. Reads the arguments synchronously (before
    /// any await), then completes the call through one of <see cref="RpcServerCall"/>'s <c>Complete</c> methods.
    /// </summary>
    /// <param name="call">The call being served.</param>
    /// <returns>A value task that completes when the result has been written.</returns>
    public abstract ValueTask DispatchAsync(RpcServerCall call);

    internal RpcMethod? FindMethod(uint methodId) =>
        _methods is not null && _methods.TryGetValue(methodId, out RpcMethod? method) ? method : null;
}
