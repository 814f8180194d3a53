using System.ComponentModel;
using TypedZmq.Protocol;

namespace TypedZmq.Internal;

/// <summary>
/// Describes one method of a service on the wire. Created once per method by generated code.
/// Not for direct use: part of the contract between generated code and the runtime.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class RpcMethod
{
    /// <summary>Creates a method descriptor.</summary>
    /// <param name="serviceName">The service's wire name.</param>
    /// <param name="serviceId">The service id (FNV-1a of the service name unless explicit).</param>
    /// <param name="methodName">The method's name as declared.</param>
    /// <param name="methodId">The method id (FNV-1a of the method signature unless explicit).</param>
    public RpcMethod(string serviceName, uint serviceId, string methodName, uint methodId)
        : this(serviceName, serviceId, methodName, methodId, isIdempotent: false)
    {
    }

    /// <summary>Creates a method descriptor.</summary>
    /// <param name="serviceName">The service's wire name.</param>
    /// <param name="serviceId">The service id (FNV-1a of the service name unless explicit).</param>
    /// <param name="methodName">The method's name as declared.</param>
    /// <param name="methodId">The method id (FNV-1a of the method signature unless explicit).</param>
    /// <param name="isIdempotent">Whether the method may run more than once for one call (<c>[RpcMethod(Idempotent = true)]</c>).</param>
    public RpcMethod(string serviceName, uint serviceId, string methodName, uint methodId, bool isIdempotent)
        : this(serviceName, serviceId, methodName, methodId, isIdempotent, argumentSchemas: null, resultSchema: null)
    {
    }

    /// <summary>Creates a method descriptor with the wire layout of its arguments and result.</summary>
    /// <param name="serviceName">The service's wire name.</param>
    /// <param name="serviceId">The service id (FNV-1a of the service name unless explicit).</param>
    /// <param name="methodName">The method's name as declared.</param>
    /// <param name="methodId">The method id (FNV-1a of the method signature unless explicit).</param>
    /// <param name="isIdempotent">Whether the method may run more than once for one call (<c>[RpcMethod(Idempotent = true)]</c>).</param>
    /// <param name="argumentSchemas">The schema of each argument sent, in order (a trailing cancellation token is not sent).</param>
    /// <param name="resultSchema">The schema of the result; <see langword="null"/> when the method returns nothing.</param>
    public RpcMethod(
        string serviceName,
        uint serviceId,
        string methodName,
        uint methodId,
        bool isIdempotent,
        PayloadSchema[]? argumentSchemas,
        PayloadSchema? resultSchema)
    {
        ServiceName = serviceName;
        ServiceId = serviceId;
        MethodName = methodName;
        MethodId = methodId;
        IsIdempotent = isIdempotent;
        if (argumentSchemas is not null)
        {
            ArgumentSchemas = (PayloadSchema[])argumentSchemas.Clone();
            ArgumentsNeedWalk = PayloadCheck.NeedsWalk(ArgumentSchemas);
            ResultSchemas = resultSchema is null ? [] : [resultSchema];
            ResultNeedsWalk = PayloadCheck.NeedsWalk(ResultSchemas);
        }
        else
        {
            // Generated before schemas existed: payloads get the conservative check.
            ArgumentsNeedWalk = true;
            ResultNeedsWalk = true;
        }
    }

    /// <summary>The service's wire name.</summary>
    public string ServiceName { get; }

    /// <summary>The service id.</summary>
    public uint ServiceId { get; }

    /// <summary>The method's name as declared.</summary>
    public string MethodName { get; }

    /// <summary><c>{service}/{method}</c>: the name of the method's spans and its <c>rpc.method</c> (made once).</summary>
    internal string QualifiedName => field ??= ServiceName + "/" + MethodName;

    /// <summary>The method id.</summary>
    public uint MethodId { get; }

    /// <summary>Whether the method may run more than once for one call, so that the client may retry it.</summary>
    public bool IsIdempotent { get; }

    /// <summary>The schemas of the arguments, or null for code generated before schemas existed.</summary>
    internal PayloadSchema[]? ArgumentSchemas { get; }

    /// <summary>The schema of the result as a one-element list (empty when there is none), or null when unknown.</summary>
    internal PayloadSchema[]? ResultSchemas { get; }

    internal bool ArgumentsNeedWalk { get; }

    internal bool ResultNeedsWalk { get; }

    /// <summary>Returns <c>Service.Method</c>, the form used in error messages.</summary>
    public override string ToString() => ServiceName + "." + MethodName;
}
