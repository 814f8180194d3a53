using System;

namespace TypedZmq;

/// <summary>
/// Marks an interface as a TypedZmq service contract. At build time TypedZmq generates, for each such interface,
/// a client proxy (reached through <see cref="RpcClient.CreateProxy{TService}"/>) and a server dispatcher
/// (reached through <see cref="RpcServer.AddService{TService}(TService)"/>).
/// </summary>
/// <remarks>
/// The service name identifies the service on the wire: its FNV-1a hash is the service id carried in every request.
/// By default it is the interface's full name (for example <c>HelloWorld.Contracts.IGreeter</c>). Give an explicit
/// name to keep the wire identity stable when the interface is renamed or moved to another namespace.
/// </remarks>
[AttributeUsage(AttributeTargets.Interface, AllowMultiple = false, Inherited = false)]
public sealed class RpcServiceAttribute : Attribute
{
    /// <summary>Marks the interface as a service whose name is the interface's full name.</summary>
    public RpcServiceAttribute()
    {
    }

    /// <summary>Marks the interface as a service with an explicit wire name.</summary>
    /// <param name="name">The service name used on the wire instead of the interface's full name.</param>
    public RpcServiceAttribute(string name)
    {
        Name = name;
    }

    /// <summary>The explicit service name, or <see langword="null"/> to use the interface's full name.</summary>
    public string? Name { get; }

    /// <summary>
    /// An explicit service id, used on the wire instead of the FNV-1a hash of the service name. Leave unset to use the
    /// hash; set it only to keep compatibility with peers that already use a fixed id.
    /// </summary>
    public uint Id { get; set; }
}
