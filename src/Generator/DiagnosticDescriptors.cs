using Microsoft.CodeAnalysis;

namespace TypedZmq.Generator;

/// <summary>
/// Every diagnostic TypedZmq reports. Ids are <c>TZMQnnnn</c>; each has a section in docs/diagnostics.md. Help links
/// are added once the repository has a public address to point them at.
/// </summary>
internal static class DiagnosticDescriptors
{
    private const string Category = "TypedZmq.Contract";

    public static readonly DiagnosticDescriptor UnsupportedMember = new(
        id: "TZMQ0001",
        title: "Declare only methods on an [RpcService] interface",
        messageFormat: "'{0}' is a {1}; an [RpcService] interface may declare only methods. Move it to another interface or turn it into a method.",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor UnsupportedMethod = new(
        id: "TZMQ0002",
        title: "Use a supported method shape on an [RpcService] interface",
        messageFormat: "Method '{0}' cannot be called remotely: {1}",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor DuplicateMethodId = new(
        id: "TZMQ0003",
        title: "Give every method of a service a distinct method id",
        messageFormat: "Methods '{0}' and '{1}' of service '{2}' have the same method id 0x{3}; rename one of them",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);
}
