using System.Threading.Tasks;

namespace TypedZmq;

/// <summary>The rest of the client's call pipeline, as an interceptor sees it: the next interceptor, or the channel.</summary>
/// <param name="context">The call.</param>
/// <returns>Completes when the reply has come back; throws <see cref="RpcException"/> when the call failed.</returns>
public delegate ValueTask RpcClientContinuation(RpcClientContext context);

/// <summary>
/// Code that runs around every call a client makes, in the order of <see cref="RpcClientOptions.Interceptors"/>: the
/// first one registered is the outermost. For metadata such as trace context or credentials, logging, metrics, policy.
/// </summary>
/// <remarks>
/// <para>
/// An interceptor sees the whole call, retries included. It may change <see cref="RpcClientContext.RequestMetadata"/>
/// and <see cref="RpcClientContext.Timeout"/> before it calls <c>next</c>; observe the outcome afterwards
/// (<see cref="RpcClientContext.Result"/>, or the <see cref="RpcException"/> <c>next</c> throws); or refuse the call
/// by throwing an <see cref="RpcException"/> without calling <c>next</c>, in which case nothing is sent. Returning
/// without calling <c>next</c> and without throwing fails the call with <see cref="RpcStatus.Internal"/>.
/// </para>
/// <para>
/// Synchronous contract methods run the chain on the calling thread and wait for it; an interceptor that completes
/// synchronously (the usual case) costs no thread hop. One instance serves every call, concurrently.
/// </para>
/// </remarks>
/// <example>
/// <code>
/// sealed class AddTenant(string tenant) : RpcClientInterceptor
/// {
///     public override ValueTask InterceptAsync(RpcClientContext context, RpcClientContinuation next)
///     {
///         context.RequestMetadata.Set("x-tenant", tenant);
///         return next(context);
///     }
/// }
/// </code>
/// </example>
public abstract class RpcClientInterceptor
{
    /// <summary>Runs around one call.</summary>
    /// <param name="context">The call.</param>
    /// <param name="next">The rest of the pipeline; call it once to go on.</param>
    /// <returns>Completes when the call is done.</returns>
    public abstract ValueTask InterceptAsync(RpcClientContext context, RpcClientContinuation next);
}
