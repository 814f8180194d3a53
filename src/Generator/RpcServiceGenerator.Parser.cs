using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using TypedZmq.Generator.Model;
using TypedZmq.Protocol;

namespace TypedZmq.Generator;

public sealed partial class RpcServiceGenerator
{
    /// <summary>Turns an [RpcService] symbol into a <see cref="ServiceModel"/> (or diagnostics). Symbols stop here.</summary>
    internal static class Parser
    {
        /// <summary>Types as generated code spells them: <c>global::</c>-qualified, with nullable annotations.</summary>
        private static readonly SymbolDisplayFormat CodeFormat = SymbolDisplayFormat.FullyQualifiedFormat
            .AddMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

        /// <summary>
        /// Types as the method id spells them: namespace-qualified CLR names, no <c>global::</c>, no keywords, no
        /// nullable reference annotations (so <c>string?</c> and <c>string</c> give the same id).
        /// </summary>
        internal static readonly SymbolDisplayFormat IdFormat = new(
            globalNamespaceStyle: SymbolDisplayGlobalNamespaceStyle.Omitted,
            typeQualificationStyle: SymbolDisplayTypeQualificationStyle.NameAndContainingTypesAndNamespaces,
            genericsOptions: SymbolDisplayGenericsOptions.IncludeTypeParameters,
            miscellaneousOptions: SymbolDisplayMiscellaneousOptions.ExpandNullable);

        public static DiagnosticDescriptor Descriptor(string id) => id switch
        {
            "TZMQ0001" => DiagnosticDescriptors.UnsupportedMember,
            "TZMQ0002" => DiagnosticDescriptors.UnsupportedMethod,
            _ => DiagnosticDescriptors.DuplicateMethodId,
        };

        public static ServiceResult Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
        {
            if (context.TargetSymbol is not INamedTypeSymbol { TypeKind: TypeKind.Interface } service)
            {
                // Misplaced attributes are reported by the contract analyzer (later issue); nothing to generate.
                return new ServiceResult(null, EquatableArray<DiagnosticInfo>.Empty);
            }

            var diagnostics = new List<DiagnosticInfo>();
            var methods = new List<MethodModel>();
            var seenIds = new Dictionary<uint, MethodModel>();
            string serviceName = ExplicitName(context) ?? service.ToDisplayString(IdFormat);

            foreach (INamedTypeSymbol declaring in new[] { service }.Concat(service.AllInterfaces))
            {
                foreach (ISymbol member in declaring.GetMembers())
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    if (member.IsStatic || !member.IsAbstract)
                    {
                        // Static members and default implementations are not part of the remote contract.
                        continue;
                    }

                    if (member is not IMethodSymbol method)
                    {
                        string kind = member switch
                        {
                            IPropertySymbol { IsIndexer: true } => "indexer",
                            IPropertySymbol => "property",
                            IEventSymbol => "event",
                            _ => member.Kind.ToString().ToLowerInvariant(),
                        };
                        diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedMember, member.Locations.FirstOrDefault(), member.Name, kind));
                        continue;
                    }

                    if (method.MethodKind != MethodKind.Ordinary)
                    {
                        // Property and event accessors: reported on the property or event itself.
                        continue;
                    }

                    MethodModel? model = ParseMethod(method, declaring, diagnostics);
                    if (model is null)
                    {
                        continue;
                    }

                    if (seenIds.TryGetValue(model.MethodId, out MethodModel? other))
                    {
                        diagnostics.Add(DiagnosticInfo.Create(
                            DiagnosticDescriptors.DuplicateMethodId,
                            method.Locations.FirstOrDefault(),
                            other.Signature,
                            model.Signature,
                            serviceName,
                            model.MethodId.ToString("x8")));
                        continue;
                    }

                    seenIds.Add(model.MethodId, model);
                    methods.Add(model);
                }
            }

            var diagnosticArray = new EquatableArray<DiagnosticInfo>(diagnostics.ToArray());
            if (diagnostics.Count > 0)
            {
                return new ServiceResult(null, diagnosticArray);
            }

            string ns = service.ContainingNamespace.IsGlobalNamespace ? "" : service.ContainingNamespace.ToDisplayString();
            string prefix = TypeNamePrefix(service);
            var model2 = new ServiceModel(
                ns,
                service.ToDisplayString(CodeFormat),
                prefix,
                serviceName,
                Fnv1a.Hash(serviceName),
                HintName(service),
                new EquatableArray<MethodModel>(methods.ToArray()));
            return new ServiceResult(model2, diagnosticArray);
        }

        private static MethodModel? ParseMethod(IMethodSymbol method, INamedTypeSymbol declaring, List<DiagnosticInfo> diagnostics)
        {
            Location? location = method.Locations.FirstOrDefault();
            if (method.IsGenericMethod)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedMethod, location, method.Name,
                    "generic methods are not supported; use concrete parameter types"));
                return null;
            }

            var parameters = new List<ParameterModel>();
            var idTypes = new List<string>();
            for (int i = 0; i < method.Parameters.Length; i++)
            {
                IParameterSymbol parameter = method.Parameters[i];
                if (parameter.RefKind != RefKind.None)
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedMethod, parameter.Locations.FirstOrDefault() ?? location, method.Name,
                        $"parameter '{parameter.Name}' is passed by reference (ref, out or in); pass it by value and return results instead"));
                    return null;
                }

                bool isToken = IsCancellationToken(parameter.Type);
                if (isToken && i != method.Parameters.Length - 1)
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedMethod, parameter.Locations.FirstOrDefault() ?? location, method.Name,
                        "a CancellationToken must be the last parameter"));
                    return null;
                }

                parameters.Add(new ParameterModel(EscapeName(parameter.Name), parameter.Type.ToDisplayString(CodeFormat), isToken));
                if (!isToken)
                {
                    idTypes.Add(parameter.Type.ToDisplayString(IdFormat));
                }
            }

            ReturnKind kind;
            string? resultType = null;
            ITypeSymbol returnType = method.ReturnType;
            if (method.ReturnsVoid)
            {
                kind = ReturnKind.Void;
            }
            else if (method.ReturnsByRef || method.ReturnsByRefReadonly)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedMethod, location, method.Name,
                    "ref returns are not supported; return the value"));
                return null;
            }
            else if (returnType is INamedTypeSymbol named && IsTaskLike(named, out bool isValueTask))
            {
                if (named.TypeArguments.Length == 1)
                {
                    kind = isValueTask ? ReturnKind.ValueTaskOfT : ReturnKind.TaskOfT;
                    resultType = named.TypeArguments[0].ToDisplayString(CodeFormat);
                }
                else
                {
                    kind = isValueTask ? ReturnKind.ValueTask : ReturnKind.Task;
                }
            }
            else if (IsUnsupportedReturn(returnType, out string? why))
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedMethod, location, method.Name, why!));
                return null;
            }
            else
            {
                kind = ReturnKind.Value;
                resultType = returnType.ToDisplayString(CodeFormat);
            }

            string signature = method.Name + "(" + string.Join(",", idTypes) + ")";
            return new MethodModel(
                method.Name,
                declaring.ToDisplayString(CodeFormat),
                returnType.ToDisplayString(CodeFormat),
                kind,
                resultType,
                signature,
                Fnv1a.Hash(signature),
                new EquatableArray<ParameterModel>(parameters.ToArray()));
        }

        private static bool IsTaskLike(INamedTypeSymbol type, out bool isValueTask)
        {
            isValueTask = false;
            if (type.ContainingNamespace?.ToDisplayString() != "System.Threading.Tasks")
            {
                return false;
            }

            if (type.Name == "Task")
            {
                return true;
            }

            isValueTask = type.Name == "ValueTask";
            return isValueTask;
        }

        private static bool IsUnsupportedReturn(ITypeSymbol type, out string? why)
        {
            why = type switch
            {
                { IsRefLikeType: true } => $"it returns the ref struct {type.Name}, which cannot be serialized; return an array or a class instead",
                ITypeParameterSymbol => "it returns a type parameter; use a concrete type",
                { TypeKind: TypeKind.Pointer or TypeKind.FunctionPointer } => "it returns a pointer; return a value",
                INamedTypeSymbol { Name: "IAsyncEnumerable" or "IAsyncEnumerator" } => "streaming (IAsyncEnumerable) is not supported yet; return a collection",
                _ => null,
            };
            return why is not null;
        }

        private static bool IsCancellationToken(ITypeSymbol type) =>
            type is INamedTypeSymbol { Name: "CancellationToken" } named &&
            named.ContainingNamespace?.ToDisplayString() == "System.Threading";

        private static string? ExplicitName(GeneratorAttributeSyntaxContext context)
        {
            foreach (AttributeData attribute in context.Attributes)
            {
                if (attribute.ConstructorArguments.Length == 1 &&
                    attribute.ConstructorArguments[0].Value is string name &&
                    !string.IsNullOrWhiteSpace(name))
                {
                    return name;
                }
            }

            return null;
        }

        /// <summary><c>IGreeter</c> becomes <c>Greeter</c>; nested interfaces get their containing types' names in front.</summary>
        private static string TypeNamePrefix(INamedTypeSymbol service)
        {
            string name = service.Name;
            if (name.Length > 1 && name[0] == 'I' && char.IsUpper(name[1]))
            {
                name = name.Substring(1);
            }

            for (INamedTypeSymbol? outer = service.ContainingType; outer is not null; outer = outer.ContainingType)
            {
                name = outer.Name + "_" + name;
            }

            return name;
        }

        private static string HintName(INamedTypeSymbol service) =>
            service.ToDisplayString(IdFormat).Replace('<', '[').Replace('>', ']') + ".TypedZmq.g.cs";

        private static string EscapeName(string name) =>
            SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None ? "@" + name : name;
    }
}
