using System.Collections.Generic;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using TypedZmq.Generator.Model;

namespace TypedZmq.Generator;

/// <summary>
/// Generates, for each interface marked <c>[TypedZmq.RpcService]</c> or named by <c>[assembly: RpcServiceFor]</c>, a
/// client proxy, a server dispatcher and the registration that lets <c>RpcClient.CreateProxy&lt;T&gt;</c> and
/// <c>RpcServer.AddService&lt;T&gt;</c> find them without reflection. This file is the pipeline only: the parser turns
/// symbols into models, the emitter models into text. Contract errors are reported by <see cref="Diagnostics.ContractAnalyzer"/>.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed partial class RpcServiceGenerator : IIncrementalGenerator
{
    /// <inheritdoc />
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        IncrementalValuesProvider<ServiceModel> declared = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                ContractSymbols.RpcServiceAttribute,
                predicate: static (node, _) => node is InterfaceDeclarationSyntax,
                transform: static (ctx, ct) => Parser.ParseDeclared(ctx, ct))
            .WithTrackingName(TrackingNames.Services)
            .Where(static service => service is not null)
            .Select(static (service, _) => service!)
            .WithTrackingName(TrackingNames.ServiceModels);

        IncrementalValuesProvider<ServiceModel> imported = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                ContractSymbols.RpcServiceForAttribute,
                predicate: static (node, _) => node is CompilationUnitSyntax,
                transform: static (ctx, ct) => Parser.ParseImported(ctx, ct))
            .WithTrackingName(TrackingNames.ImportedServices)
            .Collect()
            .SelectMany(static (perFile, _) => Distinct(perFile))
            .WithTrackingName(TrackingNames.ImportedServiceModels);

        context.RegisterSourceOutput(declared, static (spc, service) => spc.AddSource(service.HintName, Emitter.Emit(service)));
        context.RegisterSourceOutput(imported, static (spc, service) => spc.AddSource(service.HintName, Emitter.Emit(service)));
    }

    /// <summary>The same interface may be named in several files; generate it once (the analyzer warns, TZMQ0011).</summary>
    private static ImmutableArray<ServiceModel> Distinct(ImmutableArray<EquatableArray<ServiceModel>> perFile)
    {
        var seen = new HashSet<string>();
        ImmutableArray<ServiceModel>.Builder result = ImmutableArray.CreateBuilder<ServiceModel>();
        foreach (EquatableArray<ServiceModel> file in perFile)
        {
            foreach (ServiceModel service in file)
            {
                if (seen.Add(service.InterfaceType))
                {
                    result.Add(service);
                }
            }
        }

        return result.ToImmutable();
    }
}
