using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using TypedZmq.Generator.Diagnostics;
using TypedZmq.Generator.Model;

namespace TypedZmq.Generator;

public sealed partial class RpcServiceGenerator
{
    /// <summary>Turns service symbols into <see cref="ServiceModel"/>s. Symbols stop here.</summary>
    internal static class Parser
    {
        /// <summary>An interface marked [RpcService]: a model, or null when its contract has errors.</summary>
        public static ServiceModel? ParseDeclared(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
        {
            if (context.TargetSymbol is not INamedTypeSymbol { TypeKind: TypeKind.Interface } service)
            {
                return null;
            }

            AttributeData attribute = context.Attributes[0];
            return ContractRules.HasErrors(service, attribute, context.SemanticModel.Compilation, cancellationToken)
                ? null
                : Build(service, attribute, context.SemanticModel.Compilation);
        }

        /// <summary>The valid interfaces named by [assembly: RpcServiceFor] attributes in one file.</summary>
        public static EquatableArray<ServiceModel> ParseImported(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
        {
            Compilation compilation = context.SemanticModel.Compilation;
            var models = new List<ServiceModel>();
            foreach (AttributeData attribute in context.Attributes)
            {
                if (attribute.ConstructorArguments.Length == 1 &&
                    attribute.ConstructorArguments[0].Value is INamedTypeSymbol { TypeKind: TypeKind.Interface } service &&
                    !ContractSymbols.IsMarkedRpcService(service) &&
                    !ContractRules.HasErrors(service, attribute, compilation, cancellationToken))
                {
                    models.Add(Build(service, attribute, compilation));
                }
            }

            return new EquatableArray<ServiceModel>(models.ToArray());
        }

        private static ServiceModel Build(INamedTypeSymbol service, AttributeData attribute, Compilation compilation)
        {
            (string serviceName, uint serviceId) = ContractSymbols.ServiceIdentity(service, attribute);
            var methods = new List<MethodModel>();
            var schemas = new PayloadSchemaBuilder(compilation);
            foreach ((ISymbol member, INamedTypeSymbol declaring) in ContractSymbols.ContractMembers(service))
            {
                if (member is IMethodSymbol { MethodKind: MethodKind.Ordinary } method)
                {
                    methods.Add(BuildMethod(method, declaring, schemas, compilation));
                }
            }

            return new ServiceModel(
                service.ContainingNamespace.IsGlobalNamespace ? "" : service.ContainingNamespace.ToDisplayString(),
                service.ToDisplayString(ContractSymbols.CodeFormat),
                GeneratedNamespace(service),
                compilation is CSharpCompilation { LanguageVersion: >= LanguageVersion.CSharp11 },
                serviceName,
                serviceId,
                service.ToDisplayString(ContractSymbols.IdFormat).Replace('<', '[').Replace('>', ']') + ".TypedZmq.g.cs",
                new EquatableArray<MethodModel>(methods.ToArray()),
                schemas.PackableTypes,
                schemas.Definitions);
        }

        private static MethodModel BuildMethod(IMethodSymbol method, INamedTypeSymbol declaring, PayloadSchemaBuilder schemas, Compilation compilation)
        {
            string[] argumentSchemas = method.Parameters
                .Where(static p => !ContractSymbols.IsCancellationToken(p.Type) && !ContractSymbols.IsAsyncEnumerable(p.Type, out _))
                .Select(p => schemas.For(p.Type))
                .ToArray();
            ParameterModel[] parameters = method.Parameters
                .Select(static p => new ParameterModel(
                    EscapeName(p.Name),
                    p.Type.ToDisplayString(ContractSymbols.CodeFormat),
                    ContractSymbols.IsCancellationToken(p.Type),
                    ContractSymbols.IsAsyncEnumerable(p.Type, out ITypeSymbol? item) ? item!.ToDisplayString(ContractSymbols.CodeFormat) : null))
                .ToArray();

            // A client stream's items travel in pushes of (bool end, T[] items).
            string? pushSchema = null;
            foreach (IParameterSymbol p in method.Parameters)
            {
                if (ContractSymbols.IsAsyncEnumerable(p.Type, out ITypeSymbol? item))
                {
                    pushSchema = schemas.For(compilation.GetTypeByMetadataName("System.ValueTuple`2")!.Construct(
                        compilation.GetSpecialType(SpecialType.System_Boolean), compilation.CreateArrayTypeSymbol(item!)));
                }
            }

            ReturnKind kind;
            string? resultType = null;
            string? resultSchema = null;
            if (method.ReturnsVoid)
            {
                kind = ReturnKind.Void;
            }
            else if (ContractSymbols.IsTaskLike(method.ReturnType, out bool isValueTask, out ITypeSymbol? taskResult))
            {
                kind = (isValueTask, taskResult is null) switch
                {
                    (false, true) => ReturnKind.Task,
                    (false, false) => ReturnKind.TaskOfT,
                    (true, true) => ReturnKind.ValueTask,
                    _ => ReturnKind.ValueTaskOfT,
                };
                resultType = taskResult?.ToDisplayString(ContractSymbols.CodeFormat);
                resultSchema = taskResult is null ? null : schemas.For(taskResult);
            }
            else if (ContractSymbols.IsAsyncEnumerable(method.ReturnType, out ITypeSymbol? element))
            {
                // A stream answers each pull with a chunk, (bool more, T[] items): its layout is what the wire carries.
                kind = ReturnKind.AsyncEnumerable;
                resultType = element!.ToDisplayString(ContractSymbols.CodeFormat);
                INamedTypeSymbol chunk = compilation.GetTypeByMetadataName("System.ValueTuple`2")!.Construct(
                    compilation.GetSpecialType(SpecialType.System_Boolean), compilation.CreateArrayTypeSymbol(element));
                resultSchema = schemas.For(chunk);
            }
            else
            {
                kind = ReturnKind.Value;
                resultType = method.ReturnType.ToDisplayString(ContractSymbols.CodeFormat);
                resultSchema = schemas.For(method.ReturnType);
            }

            return new MethodModel(
                method.Name,
                declaring.ToDisplayString(ContractSymbols.CodeFormat),
                method.ReturnType.ToDisplayString(ContractSymbols.CodeFormat),
                kind,
                resultType,
                ContractSymbols.Signature(method),
                ContractSymbols.MethodId(method),
                new EquatableArray<ParameterModel>(parameters),
                ContractSymbols.IsIdempotent(method) && kind != ReturnKind.AsyncEnumerable && pushSchema is null, // a stream is never opened twice by a retry
                new EquatableArray<string>(argumentSchemas),
                resultSchema,
                pushSchema);
        }

        /// <summary><c>Shop.IOrders</c> gets <c>TypedZmq.Generated.Shop.IOrders</c>; keywords among the segments are escaped.</summary>
        private static string GeneratedNamespace(INamedTypeSymbol service)
        {
            var segments = new List<string>();
            for (ISymbol? symbol = service; symbol is not null and not INamespaceSymbol { IsGlobalNamespace: true }; symbol = symbol.ContainingSymbol)
            {
                segments.Insert(0, EscapeName(symbol.Name));
            }

            return "TypedZmq.Generated." + string.Join(".", segments);
        }

        private static string EscapeName(string name) =>
            SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None ? "@" + name : name;
    }
}
