using System;
using System.Linq;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace TypedZmq.Hosting;

/// <summary>Registers TypedZmq servers and clients with an application's services (the .NET generic host).</summary>
public static class TypedZmqServiceCollectionExtensions
{
    /// <summary>The name of the server and of the clients registered without one.</summary>
    public const string DefaultName = "TypedZmq";

    /// <summary>Adds the TypedZmq server named <see cref="DefaultName"/>; see the overload with a name.</summary>
    /// <param name="services">The application's services.</param>
    /// <returns>A builder to set the server's options and add its services and interceptors.</returns>
    public static TypedZmqServerBuilder AddTypedZmqServer(this IServiceCollection services) => services.AddTypedZmqServer(DefaultName);

    /// <summary>Adds the TypedZmq server named <see cref="DefaultName"/>, with options set in code; see the overload with a name.</summary>
    /// <param name="services">The application's services.</param>
    /// <param name="configure">Sets its options (configuration can set them too: <see cref="TypedZmqServerBuilder.BindConfiguration"/>).</param>
    /// <returns>A builder to add the server's services and interceptors.</returns>
    public static TypedZmqServerBuilder AddTypedZmqServer(this IServiceCollection services, Action<TypedZmqServerOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        return services.AddTypedZmqServer(DefaultName).Configure(configure);
    }

    /// <summary>
    /// Adds a TypedZmq server that the host starts (binding its endpoint) and stops (draining calls in flight). Its
    /// options are validated when the host starts: a bad endpoint stops the start with a message naming the setting.
    /// Several servers may run in one host under different names.
    /// </summary>
    /// <param name="services">The application's services.</param>
    /// <param name="name">The server's name.</param>
    /// <returns>A builder to set the server's options and add its services and interceptors.</returns>
    public static TypedZmqServerBuilder AddTypedZmqServer(this IServiceCollection services, string name)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        AddCommon(services);
        if (!services.Any(d => d.ServiceType == typeof(ServerName) && Equals(d.ImplementationInstance, new ServerName(name))))
        {
            // Once per name: calling this again (to add services from elsewhere) adds to the same server.
            services.AddSingleton(new ServerName(name));
            services.AddOptions<TypedZmqServerOptions>(name).ValidateOnStart();
            services.AddSingleton<IHostedService>(provider => new TypedZmqServerHost(name, provider));
        }

        return new TypedZmqServerBuilder(services, name);
    }

    /// <summary>Makes <typeparamref name="TService"/> injectable from the client named <see cref="DefaultName"/>; see the overload with a name.</summary>
    /// <typeparam name="TService">The <see cref="RpcServiceAttribute"/> interface.</typeparam>
    /// <param name="services">The application's services.</param>
    /// <returns>A builder to set the client's options.</returns>
    public static TypedZmqClientBuilder AddTypedZmqClient<TService>(this IServiceCollection services)
        where TService : class =>
        services.AddTypedZmqClient<TService>(DefaultName);

    /// <summary>Makes <typeparamref name="TService"/> injectable from the client named <see cref="DefaultName"/>, with options set in code.</summary>
    /// <typeparam name="TService">The <see cref="RpcServiceAttribute"/> interface.</typeparam>
    /// <param name="services">The application's services.</param>
    /// <param name="configure">Sets its options (configuration can set them too: <see cref="TypedZmqClientBuilder.BindConfiguration"/>).</param>
    /// <returns>A builder to set the client's options.</returns>
    public static TypedZmqClientBuilder AddTypedZmqClient<TService>(this IServiceCollection services, Action<TypedZmqClientOptions> configure)
        where TService : class
    {
        ArgumentNullException.ThrowIfNull(configure);
        return services.AddTypedZmqClient<TService>(DefaultName).Configure(configure);
    }

    /// <summary>
    /// Makes <typeparamref name="TService"/> injectable: a TypedZmq proxy over an <see cref="RpcClient"/> that the
    /// container creates on first use and disposes with itself. Proxies whose settings are the same (endpoint, channel,
    /// timeouts, retries, security) share one client. Options are named by <paramref name="name"/> and validated when
    /// the host starts; give the clients of different servers different names.
    /// </summary>
    /// <typeparam name="TService">The <see cref="RpcServiceAttribute"/> interface.</typeparam>
    /// <param name="services">The application's services.</param>
    /// <param name="name">The client's options name.</param>
    /// <returns>A builder to set the client's options, for example to bind them to a configuration section.</returns>
    public static TypedZmqClientBuilder AddTypedZmqClient<TService>(this IServiceCollection services, string name)
        where TService : class
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        AddCommon(services);
        services.AddOptions<TypedZmqClientOptions>(name).ValidateOnStart();
        services.TryAddSingleton<TypedZmqClientPool>();
        services.AddSingleton(provider => provider.GetRequiredService<TypedZmqClientPool>().For(name).CreateProxy<TService>());
        return new TypedZmqClientBuilder(services, name);
    }

    private static void AddCommon(IServiceCollection services)
    {
        services.TryAddSingleton(provider =>
        {
            var paths = new ConfigurationPaths();
            foreach (BoundSection section in provider.GetServices<BoundSection>())
            {
                paths.Record(section.Options, section.Name, section.Path);
            }

            return paths;
        });
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TypedZmqServerOptions>, ServerOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TypedZmqClientOptions>, ClientOptionsValidator>());
    }

    /// <summary>Marks a server name as registered.</summary>
    private sealed record ServerName(string Name);
}
