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
    /// <summary>Creates a dispatcher for one service.</summary>
    /// <param name="serviceName">The service's wire name.</param>
    /// <param name="serviceId">The service id.</param>
    protected RpcServiceDispatcher(string serviceName, uint serviceId)
    {
        ServiceName = serviceName;
        ServiceId = serviceId;
    }

    /// <summary>The service's wire name.</summary>
    public string ServiceName { get; }

    /// <summary>The service id.</summary>
    public uint ServiceId { get; }

    /// <summary>
    /// Runs the method that <see cref="RpcServerCall.MethodId"/> names. Reads the arguments synchronously (before
    /// any await), then completes the call through one of <see cref="RpcServerCall"/>'s <c>Complete</c> methods.
    /// </summary>
    /// <param name="call">The call being served.</param>
    /// <returns>A value task that completes when the result has been written.</returns>
    public abstract ValueTask DispatchAsync(RpcServerCall call);
}
