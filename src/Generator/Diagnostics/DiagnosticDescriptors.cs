using Microsoft.CodeAnalysis;

namespace TypedZmq.Generator.Diagnostics;

/// <summary>
/// Every diagnostic TypedZmq reports. Ids are <c>TZMQnnnn</c>; each has a section in docs/diagnostics.md and a line in
/// AnalyzerReleases.Unshipped.md. Titles say the fix. Help links are added once the repository has a public address.
/// </summary>
internal static class DiagnosticDescriptors
{
    private const string Category = "TypedZmq.Contract";

    public static readonly DiagnosticDescriptor NotAnInterface = Error(
        "TZMQ0001",
        "Apply [RpcService] and [RpcServiceFor] to interfaces only",
        "'{0}' is not an interface; TypedZmq generates proxies and dispatchers for interfaces only. Declare the contract as an interface.");

    public static readonly DiagnosticDescriptor GenericInterface = Error(
        "TZMQ0002",
        "Use a non-generic interface as a service",
        "Service interface '{0}' is generic; a service needs one concrete contract. Declare a non-generic interface (it may inherit a closed generic one).");

    public static readonly DiagnosticDescriptor InaccessibleInterface = Error(
        "TZMQ0003",
        "Make the service interface accessible to generated code",
        "Service interface '{0}' is not accessible from the rest of its assembly; make it (and any type it is nested in) public or internal");

    public static readonly DiagnosticDescriptor UnsupportedMember = Error(
        "TZMQ0004",
        "Declare only methods on a service interface",
        "'{0}' is {1}; a service interface may declare only methods. Turn it into a method or move it to another interface.");

    public static readonly DiagnosticDescriptor GenericMethod = Error(
        "TZMQ0005",
        "Use non-generic methods on a service interface",
        "Method '{0}' is generic; a remote call needs concrete types. Declare one method per type instead.");

    public static readonly DiagnosticDescriptor ByRefParameter = Error(
        "TZMQ0006",
        "Pass service method parameters by value",
        "Parameter '{0}' of method '{1}' is passed by reference ({2}); pass it by value and return results in the return value");

    public static readonly DiagnosticDescriptor CancellationTokenNotLast = Error(
        "TZMQ0007",
        "Make CancellationToken the last parameter",
        "Parameter '{0}' of method '{1}' is a CancellationToken but not the last parameter; move it to the end");

    public static readonly DiagnosticDescriptor UnsupportedReturnType = Error(
        "TZMQ0008",
        "Return void, a value, Task, Task<T>, ValueTask or ValueTask<T>",
        "Method '{0}' returns {1}, which cannot be sent back; {2}");

    public static readonly DiagnosticDescriptor DuplicateMethodId = Error(
        "TZMQ0009",
        "Give every method of a service a distinct method id",
        "Methods '{0}' and '{1}' of service '{2}' have the same method id 0x{3}; give one of them another explicit [RpcMethod(Id = ...)] or rename it");

    public static readonly DiagnosticDescriptor NotSerializable = new(
        id: "TZMQ0010",
        title: "Use types MemoryPack can serialize in service methods",
        messageFormat: "{0} of method '{1}' has type '{2}', which MemoryPack cannot serialize as far as the compiler can tell; mark it [MemoryPackable], use a supported type, or register a formatter and suppress this warning",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Warning,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor StreamArgument = new(
        id: "TZMQ0023",
        title: "Take at most one stream argument, in a method that returns a task",
        messageFormat: "Parameter '{0}' of method '{1}' is a stream (IAsyncEnumerable<T>), which {2}",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor DuplicateService = new(
        id: "TZMQ0011",
        title: "Generate each service once",
        messageFormat: "'{0}' is already a TypedZmq service {1}; remove this [RpcServiceFor]",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Warning,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor DuplicateServiceId = new(
        id: "TZMQ0012",
        title: "Give every service in an assembly a distinct service id",
        messageFormat: "Services '{0}' and '{1}' have the same service id 0x{2}; give one of them another name or explicit Id in its attribute",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        customTags: WellKnownDiagnosticTags.CompilationEnd);

    public static readonly DiagnosticDescriptor ShippedEntryBroken = Error(
        "TZMQ0020",
        "Keep shipped contract entries readable by old peers",
        "Shipped contract entry '{0}' {1}. Clients and servers built against the shipped contract depend on it: restore it, or add the change as a new method or type; to break it on purpose, delete its line from TypedZmq.Contract.Shipped.txt (see docs/versioning.md).");

    public static readonly DiagnosticDescriptor UnshippedOutOfStep = new(
        id: "TZMQ0021",
        title: "Record contract changes in TypedZmq.Contract.Unshipped.txt",
        messageFormat: "In TypedZmq.Contract.Unshipped.txt, {0}; build once with -p:TypedZmqAcceptContract=true to update the file",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Warning,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor ContractLineNotUnderstood = new(
        id: "TZMQ0022",
        title: "Keep contract files to the entries TypedZmq writes",
        messageFormat: "{0}; the unshipped file is rewritten whole by building with -p:TypedZmqAcceptContract=true, the shipped file is edited by hand",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Warning,
        isEnabledByDefault: true);

    private static DiagnosticDescriptor Error(string id, string title, string message) =>
        new(id, title, message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true);
}
