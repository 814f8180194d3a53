using System;
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
        services.AddOptions<TypedZmqServerOptions>(name).ValidateOnStart();
        services.AddSingleton<IHostedService>(provider => new TypedZmqServerHost(name, provider));
        return new TypedZmqServerBuilder(services, name);
    }

    /// <summary>
    /// Makes <typeparamref name="TService"/> injectable: a TypedZmq proxy over an <see cref="RpcClient"/> that the
    /// container creates on first use and disposes with itself. Proxies whose settings are the same (endpoint, channel,
    /// timeouts) share one client. Options are named by <paramref name="name"/> (default
    /// <see cref="DefaultName"/>) and validated when the host starts.
    /// </summary>
    /// <typeparam name="TService">The <see cref="RpcServiceAttribute"/> interface.</typeparam>
    /// <param name="services">The application's services.</param>
    /// <param name="configure">Sets its options in code (optional).</param>
    /// <param name="name">The client's options name; give each server its own.</param>
    /// <returns>The options builder, for example to <c>.BindConfiguration("TypedZmq:Clients:Orders")</c>.</returns>
    public static OptionsBuilder<TypedZmqClientOptions> AddTypedZmqClient<TService>(this IServiceCollection services, Action<TypedZmqClientOptions>? configure = null, string name = DefaultName)
        where TService : class
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        AddCommon(services);
        OptionsBuilder<TypedZmqClientOptions> options = services.AddOptions<TypedZmqClientOptions>(name).ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddSingleton<TypedZmqClientPool>();
        services.AddSingleton(provider => provider.GetRequiredService<TypedZmqClientPool>().For(name).CreateProxy<TService>());
        return options;
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
}
