using System;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;

namespace TypedZmq.Hosting;

/// <summary>
/// The first interceptor of a hosted server: a DI scope per call, disposed when the call ends (also when it fails or is
/// cancelled). Interceptors from DI and the implementation are resolved from it.
/// </summary>
internal sealed class CallScope(IServiceScopeFactory scopes) : RpcServerInterceptor
{
    private static readonly object Key = new();

    /// <summary>The call's scoped service provider.</summary>
    public static IServiceProvider Services(RpcCallContext context) =>
        context.Items.TryGetValue(Key, out object? services) && services is IServiceProvider provider
            ? provider
            : throw new InvalidOperationException($"{context.ServiceName}/{context.MethodName} has no DI scope: it was not started by a TypedZmq hosted server.");

    public override async ValueTask InterceptAsync(RpcCallContext context, RpcServerContinuation next)
    {
        AsyncServiceScope scope = scopes.CreateAsyncScope();
        try
        {
            context.Items[Key] = scope.ServiceProvider;
            await next(context).ConfigureAwait(false);
        }
        finally
        {
            context.Items.Remove(Key);
            await scope.DisposeAsync().ConfigureAwait(false);
        }
    }
}

/// <summary>Runs an interceptor registered in DI, resolved from the call's scope (so it may be scoped itself).</summary>
internal sealed class ScopedInterceptor<TInterceptor> : RpcServerInterceptor
    where TInterceptor : RpcServerInterceptor
{
    public override ValueTask InterceptAsync(RpcCallContext context, RpcServerContinuation next) =>
        CallScope.Services(context).GetRequiredService<TInterceptor>().InterceptAsync(context, next);
}
