using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;

namespace TypedZmq.Internal;

/// <summary>
/// Where generated code registers, per service interface, how to build its proxy and its dispatcher, so that
/// <see cref="RpcClient.CreateProxy{TService}"/> and <see cref="RpcServer.AddService{TService}(TService)"/> need no
/// reflection. Generated code calls <see cref="Register{TService}"/> from a module initializer.
/// Not for direct use: part of the contract between generated code and the runtime.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class RpcServiceRegistry
{
    /// <summary>Registers the generated proxy and dispatcher factories of <typeparamref name="TService"/>.</summary>
    /// <typeparam name="TService">The service interface.</typeparam>
    /// <param name="proxyFactory">Creates a proxy over a channel.</param>
    /// <param name="dispatcherFactory">Creates a dispatcher over an implementation.</param>
    public static void Register<TService>(
        Func<RpcChannel, TService> proxyFactory,
        Func<TService, RpcServiceDispatcher> dispatcherFactory)
        where TService : class
    {
        ArgumentNullException.ThrowIfNull(proxyFactory);
        ArgumentNullException.ThrowIfNull(dispatcherFactory);
        Registration<TService>.ProxyFactory = proxyFactory;
        Registration<TService>.DispatcherFactory = dispatcherFactory;
    }

    internal static Func<RpcChannel, TService> GetProxyFactory<TService>()
        where TService : class
    {
        EnsureRegistered<TService>();
        return Registration<TService>.ProxyFactory!;
    }

    internal static Func<TService, RpcServiceDispatcher> GetDispatcherFactory<TService>()
        where TService : class
    {
        EnsureRegistered<TService>();
        return Registration<TService>.DispatcherFactory!;
    }

    private static void EnsureRegistered<TService>()
        where TService : class
    {
        if (Registration<TService>.ProxyFactory is not null)
        {
            return;
        }

        // The registration lives in a module initializer of the assembly that declares the interface. The runtime runs
        // it before that assembly's code first executes, which may not have happened yet: run it now.
        RuntimeHelpers.RunModuleConstructor(typeof(TService).Module.ModuleHandle);
        if (Registration<TService>.ProxyFactory is not null)
        {
            return;
        }

        throw new InvalidOperationException(
            typeof(TService).IsInterface
                ? $"No TypedZmq proxy or dispatcher was generated for {typeof(TService)}. Mark the interface with [RpcService] " +
                  "and make sure the project that declares it references the TypedZmq package (which runs the generator)."
                : $"{typeof(TService)} is not an interface. Pass the [RpcService] interface as the type argument, " +
                  "for example CreateProxy<IGreeter>() or AddService<IGreeter>(new Greeter()).");
    }

    private static class Registration<TService>
        where TService : class
    {
        public static Func<RpcChannel, TService>? ProxyFactory;
        public static Func<TService, RpcServiceDispatcher>? DispatcherFactory;
    }
}
