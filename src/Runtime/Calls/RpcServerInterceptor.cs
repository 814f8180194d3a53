using System.Threading.Tasks;

namespace TypedZmq;

/// <summary>The rest of the server's call pipeline, as an interceptor sees it: the next interceptor, or the implementation.</summary>
/// <param name="context">The call.</param>
/// <returns>Completes when the call has run; throws <see cref="RpcException"/> when it failed.</returns>
public delegate ValueTask RpcServerContinuation(RpcCallContext context);

/// <summary>
/// Code that runs around every call a server serves, in the order of <see cref="RpcServerOptions.Interceptors"/>: the
/// first one registered is the outermost. For logging, metrics, tracing, authorization, per-call state.
/// </summary>
/// <remarks>
/// <para>
/// An interceptor runs after the request passed the protocol checks (a known service and method, a deadline not yet
/// passed) and before its arguments are decoded. It may:
/// </para>
/// <list type="bullet">
/// <item>run code before and after <c>await next(context)</c>;</item>
/// <item>observe the outcome: after <c>next</c> returns, <see cref="RpcCallContext.Result"/> holds the result; when the
/// call failed, <c>next</c> throws an <see cref="RpcException"/> (an implementation's own exception is its
/// <see cref="System.Exception.InnerException"/>, with status <see cref="RpcStatus.RemoteError"/>);</item>
/// <item>refuse the call by throwing an <see cref="RpcException"/> instead of calling <c>next</c> (for example with
/// <see cref="RpcStatus.PermissionDenied"/>): the client gets that status and message.</item>
/// </list>
/// <para>
/// Returning without calling <c>next</c> and without throwing fails the call with <see cref="RpcStatus.Internal"/>: an
/// interceptor cannot make up a result. One instance serves every call, concurrently on a concurrent server: keep
/// per-call state in <see cref="RpcCallContext.Items"/>.
/// </para>
/// </remarks>
/// <example>
/// <code>
/// sealed class RequireTenant : RpcServerInterceptor
/// {
///     public override ValueTask InterceptAsync(RpcCallContext context, RpcServerContinuation next) =>
///         context.RequestMetadata.GetString("x-tenant") is null
///             ? throw new RpcException(RpcStatus.PermissionDenied, "Send the x-tenant metadata.")
///             : next(context);
/// }
/// </code>
/// </example>
public abstract class RpcServerInterceptor
{
    /// <summary>Runs around one call.</summary>
    /// <param name="context">The call.</param>
    /// <param name="next">The rest of the pipeline; call it once to go on.</param>
    /// <returns>Completes when the call is done.</returns>
    public abstract ValueTask InterceptAsync(RpcCallContext context, RpcServerContinuation next);
}
