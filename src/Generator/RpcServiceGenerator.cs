using Microsoft.CodeAnalysis;
using TypedZmq.Generator.Model;

namespace TypedZmq.Generator;

/// <summary>
/// Generates, for each interface marked <c>[TypedZmq.RpcService]</c>, a client proxy, a server dispatcher and the
/// registration that lets <c>RpcClient.CreateProxy&lt;T&gt;</c> and <c>RpcServer.AddService&lt;T&gt;</c> find them
/// without reflection. This file is the pipeline only: the parser turns symbols into models, the emitter models into text.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed partial class RpcServiceGenerator : IIncrementalGenerator
{
    internal const string RpcServiceAttributeName = "TypedZmq.RpcServiceAttribute";

    /// <inheritdoc />
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        IncrementalValuesProvider<ServiceResult> results = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                RpcServiceAttributeName,
                predicate: static (node, _) => node is Microsoft.CodeAnalysis.CSharp.Syntax.TypeDeclarationSyntax,
                transform: static (ctx, ct) => Parser.Parse(ctx, ct))
            .WithTrackingName(TrackingNames.Services);

        IncrementalValuesProvider<ServiceModel> services = results
            .Select(static (result, _) => result.Service)
            .Where(static service => service is not null)
            .Select(static (service, _) => service!)
            .WithTrackingName(TrackingNames.ServiceModels);

        IncrementalValuesProvider<EquatableArray<DiagnosticInfo>> diagnostics = results
            .Select(static (result, _) => result.Diagnostics)
            .Where(static d => d.Count > 0)
            .WithTrackingName(TrackingNames.Diagnostics);

        context.RegisterSourceOutput(services, static (spc, service) =>
            spc.AddSource(service.HintName, Emitter.Emit(service)));

        context.RegisterSourceOutput(diagnostics, static (spc, infos) =>
        {
            foreach (DiagnosticInfo info in infos)
            {
                spc.ReportDiagnostic(Diagnostic.Create(Parser.Descriptor(info.Id), info.ToLocation(), [.. info.Arguments]));
            }
        });
    }
}
