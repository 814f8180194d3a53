using System;
using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.DependencyInjection;

namespace TypedZmq.Hosting;

/// <summary>
/// Sets the options of a DI client (from
/// <see cref="TypedZmqServiceCollectionExtensions.AddTypedZmqClient{TService}(IServiceCollection, string)"/>).
/// </summary>
public sealed class TypedZmqClientBuilder
{
    internal TypedZmqClientBuilder(IServiceCollection services, string name)
    {
        Services = services;
        Name = name;
    }

    /// <summary>The application's services.</summary>
    public IServiceCollection Services { get; }

    /// <summary>The client's name (its options are named options of <see cref="TypedZmqClientOptions"/> by this name).</summary>
    public string Name { get; }

    /// <summary>Binds the client's settings to a configuration section, for example <c>TypedZmq:Clients:Orders</c>.</summary>
    /// <param name="sectionPath">The section's path in the application's configuration.</param>
    /// <returns>This builder.</returns>
    [RequiresUnreferencedCode("Binds configuration by reflection over TypedZmqClientOptions.")]
    [RequiresDynamicCode("Binds configuration by reflection over TypedZmqClientOptions.")]
    public TypedZmqClientBuilder BindConfiguration(string sectionPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(sectionPath);
        Services.AddOptions<TypedZmqClientOptions>(Name).BindConfiguration(sectionPath);
        Services.AddSingleton(new BoundSection(typeof(TypedZmqClientOptions), Name, sectionPath));
        return this;
    }

    /// <summary>Changes the client's settings in code (after configuration, if both are used).</summary>
    /// <param name="configure">Sets options.</param>
    /// <returns>This builder.</returns>
    public TypedZmqClientBuilder Configure(Action<TypedZmqClientOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        Services.Configure(Name, configure);
        return this;
    }
}
