using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using TypedZmq.Protocol;

namespace TypedZmq.Generator;

/// <summary>How TypedZmq reads contract symbols: shared by the generator's parser and the contract analyzer, so what
/// the analyzer accepts is exactly what the generator generates.</summary>
internal static class ContractSymbols
{
    public const string RpcServiceAttribute = "TypedZmq.RpcServiceAttribute";
    public const string RpcServiceForAttribute = "TypedZmq.RpcServiceForAttribute";
    public const string RpcMethodAttribute = "TypedZmq.RpcMethodAttribute";

    /// <summary>Types as generated code spells them: <c>global::</c>-qualified, with nullable annotations.</summary>
    public static readonly SymbolDisplayFormat CodeFormat = SymbolDisplayFormat.FullyQualifiedFormat
        .AddMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    /// <summary>
    /// Types as ids spell them: namespace-qualified CLR names, no <c>global::</c>, no keywords, no nullable reference
    /// annotations (so <c>string?</c> and <c>string</c> give the same id). See docs/protocol.md.
    /// </summary>
    public static readonly SymbolDisplayFormat IdFormat = new(
        globalNamespaceStyle: SymbolDisplayGlobalNamespaceStyle.Omitted,
        typeQualificationStyle: SymbolDisplayTypeQualificationStyle.NameAndContainingTypesAndNamespaces,
        genericsOptions: SymbolDisplayGenericsOptions.IncludeTypeParameters,
        miscellaneousOptions: SymbolDisplayMiscellaneousOptions.ExpandNullable);

    /// <summary>The service's wire name and id, from its attribute (explicit) or its full name (default).</summary>
    public static (string Name, uint Id) ServiceIdentity(INamedTypeSymbol service, AttributeData? attribute)
    {
        string? name = null;
        uint? id = null;
        if (attribute is not null)
        {
            foreach (TypedConstant argument in attribute.ConstructorArguments)
            {
                if (argument.Value is string text && !string.IsNullOrWhiteSpace(text))
                {
                    name = text;
                }
            }

            foreach (KeyValuePair<string, TypedConstant> named in attribute.NamedArguments)
            {
                if (named.Key == "Name" && named.Value.Value is string text && !string.IsNullOrWhiteSpace(text))
                {
                    name = text;
                }
                else if (named.Key == "Id" && named.Value.Value is uint explicitId)
                {
                    id = explicitId;
                }
            }
        }

        name ??= service.ToDisplayString(IdFormat);
        return (name, id ?? Fnv1a.Hash(name));
    }

    /// <summary>The interfaces that [assembly: RpcServiceFor(typeof(...))] attributes name, in attribute order.</summary>
    public static IEnumerable<(INamedTypeSymbol Service, AttributeData Attribute)> ServicesFor(IAssemblySymbol assembly)
    {
        foreach (AttributeData attribute in assembly.GetAttributes())
        {
            if (attribute.AttributeClass?.ToDisplayString() == RpcServiceForAttribute &&
                attribute.ConstructorArguments.Length == 1 &&
                attribute.ConstructorArguments[0].Value is INamedTypeSymbol { TypeKind: TypeKind.Interface } service)
            {
                yield return (service, attribute);
            }
        }
    }

    public static bool IsMarkedRpcService(INamedTypeSymbol type) =>
        type.GetAttributes().Any(static a => a.AttributeClass?.ToDisplayString() == RpcServiceAttribute);

    /// <summary>The abstract instance members of the service and of every interface it inherits, in declaration order.</summary>
    public static IEnumerable<(ISymbol Member, INamedTypeSymbol Declaring)> ContractMembers(INamedTypeSymbol service)
    {
        foreach (INamedTypeSymbol declaring in new[] { service }.Concat(service.AllInterfaces))
        {
            foreach (ISymbol member in declaring.GetMembers())
            {
                // Static members and default implementations are not part of the remote contract.
                if (!member.IsStatic && member.IsAbstract)
                {
                    yield return (member, declaring);
                }
            }
        }
    }

    /// <summary>The method's signature as hashed into its id, for example <c>SayHello(System.String)</c>.</summary>
    public static string Signature(IMethodSymbol method) =>
        method.Name + "(" + string.Join(",", method.Parameters
            .Where(static p => !IsCancellationToken(p.Type))
            .Select(static p => p.Type.ToDisplayString(IdFormat))) + ")";

    public static uint MethodId(IMethodSymbol method) =>
        RpcMethodSetting(method, "Id") is uint id ? id : Fnv1a.Hash(Signature(method));

    public static bool IsIdempotent(IMethodSymbol method) => RpcMethodSetting(method, "Idempotent") is true;

    /// <summary>A named argument of the method's [RpcMethod] attribute, or null when it is not set.</summary>
    private static object? RpcMethodSetting(IMethodSymbol method, string name)
    {
        foreach (AttributeData attribute in method.GetAttributes())
        {
            if (attribute.AttributeClass?.ToDisplayString() == RpcMethodAttribute)
            {
                foreach (KeyValuePair<string, TypedConstant> named in attribute.NamedArguments)
                {
                    if (named.Key == name)
                    {
                        return named.Value.Value;
                    }
                }
            }
        }

        return null;
    }

    public static bool IsCancellationToken(ITypeSymbol type) =>
        type is INamedTypeSymbol { Name: "CancellationToken" } named &&
        named.ContainingNamespace?.ToDisplayString() == "System.Threading";

    /// <summary>Task, Task&lt;T&gt;, ValueTask, ValueTask&lt;T&gt; from System.Threading.Tasks.</summary>
    public static bool IsTaskLike(ITypeSymbol type, out bool isValueTask, out ITypeSymbol? result)
    {
        isValueTask = false;
        result = null;
        if (type is not INamedTypeSymbol named || named.ContainingNamespace?.ToDisplayString() != "System.Threading.Tasks" ||
            named.Name is not ("Task" or "ValueTask") || named.TypeArguments.Length > 1)
        {
            return false;
        }

        isValueTask = named.Name == "ValueTask";
        result = named.TypeArguments.Length == 1 ? named.TypeArguments[0] : null;
        return true;
    }

    /// <summary>Whether <paramref name="type"/> is <c>System.Collections.Generic.IAsyncEnumerable&lt;T&gt;</c> (a stream), and of what.</summary>
    public static bool IsAsyncEnumerable(ITypeSymbol type, out ITypeSymbol? element)
    {
        element = null;
        if (type is not INamedTypeSymbol { Name: "IAsyncEnumerable", TypeArguments.Length: 1 } named ||
            named.ContainingNamespace?.ToDisplayString() != "System.Collections.Generic")
        {
            return false;
        }

        element = named.TypeArguments[0];
        return true;
    }

    /// <summary>Why a return type cannot be sent back, or null when it can.</summary>
    public static string? UnsupportedReturnReason(IMethodSymbol method)
    {
        if (method.ReturnsByRef || method.ReturnsByRefReadonly)
        {
            return "ref returns are not supported; return the value";
        }

        ITypeSymbol type = method.ReturnType;
        return type switch
        {
            { IsRefLikeType: true } => "a ref struct cannot be serialized; return an array or a class instead",
            ITypeParameterSymbol => "use a concrete type",
            { TypeKind: TypeKind.Pointer or TypeKind.FunctionPointer } => "return a value instead of a pointer",
            INamedTypeSymbol { Name: "IAsyncEnumerator" } => "return IAsyncEnumerable<T> to stream, or a collection",
            _ when IsTaskLike(type, out _, out ITypeSymbol? inner) && inner is not null && IsAsyncEnumerable(inner, out _) =>
                "return IAsyncEnumerable<T> itself, not wrapped in a task: the stream opens when the caller enumerates it",
            _ => null,
        };
    }
}
