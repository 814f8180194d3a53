using System;
using System.Threading.Tasks;
using TypedZmq.Internal;

namespace TypedZmq.Server;

/// <summary>
/// A service whose implementation is made for each call (from a DI scope, for example): the generated dispatcher is
/// built around the call's own implementation and handed the call.
/// </summary>
internal sealed class PerCallDispatcher<TService> : RpcServiceDispatcher
    where TService : class
{
    private readonly Func<RpcCallContext, TService> _factory;
    private readonly Func<TService, RpcServiceDispatcher> _dispatcherFactory;

    public PerCallDispatcher(Func<RpcCallContext, TService> factory, Func<TService, RpcServiceDispatcher> dispatcherFactory)
        : base(dispatcherFactory(null!)) // a generated dispatcher only keeps the implementation: its name, id and methods are what is wanted
    {
        _factory = factory;
        _dispatcherFactory = dispatcherFactory;
    }

    public override ValueTask DispatchAsync(RpcServerCall call)
    {
        RpcCallContext context = call.Context
            ?? throw new InvalidOperationException("A per-call service needs the call's context; the server always gives one.");
        TService implementation = _factory(context)
            ?? throw new InvalidOperationException($"The factory for {typeof(TService)} returned null for {context.ServiceName}/{context.MethodName}.");
        return _dispatcherFactory(implementation).DispatchAsync(call);
    }
}
