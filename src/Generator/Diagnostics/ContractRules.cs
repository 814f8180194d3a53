using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;

namespace TypedZmq.Generator.Diagnostics;

/// <summary>One broken contract rule: what to report and where.</summary>
internal readonly struct ContractProblem
{
    public ContractProblem(DiagnosticDescriptor descriptor, Location location, params object?[] arguments)
    {
        Descriptor = descriptor;
        Location = location;
        Arguments = arguments;
    }

    public DiagnosticDescriptor Descriptor { get; }

    public Location Location { get; }

    public object?[] Arguments { get; }

    public bool IsError => Descriptor.DefaultSeverity == DiagnosticSeverity.Error;

    public Diagnostic ToDiagnostic() => Diagnostic.Create(Descriptor, Location, Arguments);
}

/// <summary>
/// The rules a service interface must follow. The analyzer reports what this finds; the generator generates only
/// for interfaces with no errors, so a broken contract shows its real error rather than a cascade of missing members.
/// </summary>
internal static class ContractRules
{
    /// <summary>Checks one service interface.</summary>
    /// <param name="service">The interface.</param>
    /// <param name="attribute">Its [RpcService] or [RpcServiceFor] attribute (explicit name and id).</param>
    /// <param name="compilation">The compilation the generated code will join.</param>
    /// <param name="fallback">Where to report problems of members that are not in source (an interface from a reference).</param>
    /// <param name="cancellationToken">Cancels the check.</param>
    /// <returns>Every problem found, in declaration order.</returns>
    public static List<ContractProblem> Check(
        INamedTypeSymbol service,
        AttributeData? attribute,
        Compilation compilation,
        Location fallback,
        CancellationToken cancellationToken)
    {
        var problems = new List<ContractProblem>();
        Location Where(ISymbol symbol) => symbol.Locations.FirstOrDefault(static l => l.IsInSource) ?? fallback;

        if (service.IsGenericType)
        {
            problems.Add(new ContractProblem(DiagnosticDescriptors.GenericInterface, Where(service), service.ToDisplayString()));
        }

        if (!compilation.IsSymbolAccessibleWithin(service, compilation.Assembly))
        {
            problems.Add(new ContractProblem(DiagnosticDescriptors.InaccessibleInterface, Where(service), service.ToDisplayString()));
        }

        string serviceName = ContractSymbols.ServiceIdentity(service, attribute).Name;
        var ids = new Dictionary<uint, IMethodSymbol>();
        foreach ((ISymbol member, _) in ContractSymbols.ContractMembers(service))
        {
            cancellationToken.ThrowIfCancellationRequested();
            switch (member)
            {
                case IMethodSymbol { MethodKind: MethodKind.Ordinary } method:
                    CheckMethod(method, Where(method), problems);
                    uint id = ContractSymbols.MethodId(method);
                    if (ids.TryGetValue(id, out IMethodSymbol? other))
                    {
                        problems.Add(new ContractProblem(
                            DiagnosticDescriptors.DuplicateMethodId,
                            Where(method),
                            ContractSymbols.Signature(other),
                            ContractSymbols.Signature(method),
                            serviceName,
                            id.ToString("x8", System.Globalization.CultureInfo.InvariantCulture)));
                    }
                    else
                    {
                        ids.Add(id, method);
                    }

                    break;
                case IMethodSymbol:
                    // Accessors: reported on their property or event.
                    break;
                case IPropertySymbol property:
                    problems.Add(new ContractProblem(
                        DiagnosticDescriptors.UnsupportedMember,
                        Where(member),
                        property.IsIndexer ? "this[]" : property.Name,
                        property.IsIndexer ? "an indexer" : "a property"));
                    break;
                default:
                    problems.Add(new ContractProblem(
                        DiagnosticDescriptors.UnsupportedMember,
                        Where(member),
                        member.Name,
                        member is IEventSymbol ? "an event" : "a " + member.Kind.ToString().ToLowerInvariant()));
                    break;
            }
        }

        return problems;
    }

    public static bool HasErrors(INamedTypeSymbol service, AttributeData? attribute, Compilation compilation, CancellationToken cancellationToken) =>
        Check(service, attribute, compilation, Location.None, cancellationToken).Any(static p => p.IsError);

    private static void CheckMethod(IMethodSymbol method, Location location, List<ContractProblem> problems)
    {
        if (method.IsGenericMethod)
        {
            problems.Add(new ContractProblem(DiagnosticDescriptors.GenericMethod, location, method.Name));
            return;
        }

        int streams = 0;
        for (int i = 0; i < method.Parameters.Length; i++)
        {
            IParameterSymbol parameter = method.Parameters[i];
            Location parameterLocation = parameter.Locations.FirstOrDefault(static l => l.IsInSource) ?? location;
            if (parameter.RefKind != RefKind.None)
            {
                problems.Add(new ContractProblem(
                    DiagnosticDescriptors.ByRefParameter, parameterLocation, parameter.Name, method.Name, RefKindText(parameter.RefKind)));
            }
            else if (ContractSymbols.IsCancellationToken(parameter.Type))
            {
                if (i != method.Parameters.Length - 1)
                {
                    problems.Add(new ContractProblem(DiagnosticDescriptors.CancellationTokenNotLast, parameterLocation, parameter.Name, method.Name));
                }
            }
            else if (ContractSymbols.IsAsyncEnumerable(parameter.Type, out ITypeSymbol? item))
            {
                string? streamProblem = streams++ > 0
                    ? "must be the only stream argument: a method takes at most one"
                    : ContractSymbols.IsAsyncEnumerable(method.ReturnType, out _)
                        ? "cannot be combined with a stream result: a method streams one way"
                        : !ContractSymbols.IsTaskLike(method.ReturnType, out _, out _)
                            ? "needs the method to return Task, Task<T>, ValueTask or ValueTask<T>: the client sends the items while the call runs"
                            : null;
                if (streamProblem is not null)
                {
                    problems.Add(new ContractProblem(DiagnosticDescriptors.StreamArgument, parameterLocation, parameter.Name, method.Name, streamProblem));
                }
                else if (!MemoryPackTypes.IsSerializable(item!))
                {
                    problems.Add(new ContractProblem(
                        DiagnosticDescriptors.NotSerializable, parameterLocation, $"Parameter '{parameter.Name}'", method.Name, item!.ToDisplayString()));
                }
            }
            else if (!MemoryPackTypes.IsSerializable(parameter.Type))
            {
                problems.Add(new ContractProblem(
                    DiagnosticDescriptors.NotSerializable, parameterLocation, $"Parameter '{parameter.Name}'", method.Name, parameter.Type.ToDisplayString()));
            }
        }

        if (method.ReturnsVoid)
        {
            return;
        }

        if (ContractSymbols.UnsupportedReturnReason(method) is { } reason)
        {
            problems.Add(new ContractProblem(DiagnosticDescriptors.UnsupportedReturnType, location, method.Name, method.ReturnType.ToDisplayString(), reason));
            return;
        }

        ITypeSymbol? result = ContractSymbols.IsTaskLike(method.ReturnType, out _, out ITypeSymbol? taskResult)
            ? taskResult
            : ContractSymbols.IsAsyncEnumerable(method.ReturnType, out ITypeSymbol? element) ? element : method.ReturnType;
        if (result is not null && !MemoryPackTypes.IsSerializable(result))
        {
            problems.Add(new ContractProblem(
                DiagnosticDescriptors.NotSerializable, location, "The return value", method.Name, result.ToDisplayString()));
        }
    }

    private static string RefKindText(RefKind kind) => kind switch
    {
        RefKind.Ref => "ref",
        RefKind.Out => "out",
        RefKind.In => "in",
        _ => "ref readonly",
    };
}
