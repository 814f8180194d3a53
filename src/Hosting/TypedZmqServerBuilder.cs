using System;
using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace TypedZmq.Hosting;

/// <summary>
/// Adds services and interceptors to one hosted TypedZmq server (from
/// <see cref="TypedZmqServiceCollectionExtensions.AddTypedZmqServer(IServiceCollection, string)"/>).
/// </summary>
public sealed class TypedZmqServerBuilder
{
    internal TypedZmqServerBuilder(IServiceCollection services, string name)
    {
        Services = services;
        Name = name;
    }

    /// <summary>The application's services.</summary>
    public IServiceCollection Services { get; }

    /// <summary>The server's name (its options are named options of <see cref="TypedZmqServerOptions"/> by this name).</summary>
    public string Name { get; }

    /// <summary>
    /// Hosts the service <typeparamref name="TService"/>: each call resolves <typeparamref name="TImplementation"/>
    /// from a DI scope of its own, disposed after the call. The implementation is registered as scoped unless the
    /// application registered it already (register it as a singleton first to share one instance).
    /// </summary>
    /// <typeparam name="TService">The <see cref="RpcServiceAttribute"/> interface.</typeparam>
    /// <typeparam name="TImplementation">The class that implements it.</typeparam>
    /// <returns>This builder.</returns>
    public TypedZmqServerBuilder AddService<TService, [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TImplementation>()
        where TService : class
        where TImplementation : class, TService
    {
        Services.TryAddScoped<TImplementation>();
        Services.AddSingleton(new ServerPart(Name, server =>
            server.AddService<TService>(static context => CallScope.Services(context).GetRequiredService<TImplementation>())));
        return this;
    }

    /// <summary>
    /// Runs <typeparamref name="TInterceptor"/> around every call of this server, after the ones added before it. It is
    /// resolved from the call's DI scope (registered as scoped unless the application registered it already).
    /// </summary>
    /// <typeparam name="TInterceptor">A server interceptor.</typeparam>
    /// <returns>This builder.</returns>
    public TypedZmqServerBuilder AddInterceptor<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TInterceptor>()
        where TInterceptor : RpcServerInterceptor
    {
        Services.TryAddScoped<TInterceptor>();
        Services.AddSingleton(new ServerPart(Name, Interceptor: new ScopedInterceptor<TInterceptor>()));
        return this;
    }

    /// <summary>Binds the server's settings to a configuration section, for example <c>TypedZmq:Server</c>.</summary>
    /// <param name="sectionPath">The section's path in the application's configuration.</param>
    /// <returns>This builder.</returns>
    [RequiresUnreferencedCode("Binds configuration by reflection over TypedZmqServerOptions.")]
    [RequiresDynamicCode("Binds configuration by reflection over TypedZmqServerOptions.")]
    public TypedZmqServerBuilder BindConfiguration(string sectionPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(sectionPath);
        Services.AddOptions<TypedZmqServerOptions>(Name).BindConfiguration(sectionPath);
        Services.AddSingleton(new BoundSection(typeof(TypedZmqServerOptions), Name, sectionPath));
        return this;
    }

    /// <summary>Changes the server's settings in code (after configuration, if both are used).</summary>
    /// <param name="configure">Sets options.</param>
    /// <returns>This builder.</returns>
    public TypedZmqServerBuilder Configure(Action<TypedZmqServerOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        Services.Configure(Name, configure);
        return this;
    }
}

/// <summary>A service or interceptor of a named server, as registered.</summary>
internal sealed record ServerPart(string Server, Action<RpcServer>? AddTo = null, RpcServerInterceptor? Interceptor = null);

/// <summary>A configuration section bound to named options, for error messages.</summary>
internal sealed record BoundSection(Type Options, string Name, string Path);
