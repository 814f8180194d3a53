using System;

namespace TypedZmq;

/// <summary>
/// Generates a TypedZmq proxy and dispatcher for an interface declared in another assembly that does not reference
/// TypedZmq, such as a shared assembly of plain interfaces. Put it on the assembly that calls
/// <see cref="RpcClient.CreateProxy{TService}"/> or <see cref="RpcServer.AddService{TService}(TService)"/>:
/// <code>[assembly: RpcServiceFor(typeof(Billing.IInvoices))]</code>
/// </summary>
/// <remarks>
/// The generated code registers itself when this assembly's code first runs, which an application's entry assembly
/// always does before <c>Main</c>. In a library, make sure some of its code has run before creating proxies.
/// </remarks>
[AttributeUsage(AttributeTargets.Assembly, AllowMultiple = true, Inherited = false)]
public sealed class RpcServiceForAttribute : Attribute
{
    /// <summary>Generates for <paramref name="serviceType"/> as if it were marked <see cref="RpcServiceAttribute"/>.</summary>
    /// <param name="serviceType">The service interface.</param>
    public RpcServiceForAttribute(Type serviceType)
    {
        ServiceType = serviceType;
    }

    /// <summary>The service interface.</summary>
    public Type ServiceType { get; }

    /// <summary>The service name used on the wire; the interface's full name when unset.</summary>
    public string? Name { get; set; }

    /// <summary>An explicit service id; the FNV-1a hash of the service name when unset.</summary>
    public uint Id { get; set; }
}
