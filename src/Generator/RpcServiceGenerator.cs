using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using TypedZmq.Generator.Contracts;
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
        IncrementalValuesProvider<ServiceModel?> parsed = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                ContractSymbols.RpcServiceAttribute,
                predicate: static (node, _) => node is InterfaceDeclarationSyntax,
                transform: static (ctx, ct) => Parser.ParseDeclared(ctx, ct))
            .WithTrackingName(TrackingNames.Services);
        IncrementalValuesProvider<ServiceModel> declared = parsed
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

        // The contract files (docs/versioning.md), when the project has them: the entries the code has now, compared with
        // what shipped. Only equatable values flow: an edit that changes no contract re-runs nothing here.
        IncrementalValueProvider<EquatableArray<string>> entries = declared.Collect()
            .Combine(imported.Collect())
            .Select(static (services, _) => ContractEntries.For(services.Left.Concat(services.Right)))
            .WithTrackingName(TrackingNames.ContractEntries);
        IncrementalValueProvider<EquatableArray<ContractFile>> files = context.AdditionalTextsProvider
            .Where(static text => IsContractFile(text.Path))
            .Select(static (text, ct) => new ContractFile(text.Path, Path.GetFileName(text.Path) == ContractFile.ShippedName, text.GetText(ct)?.ToString() ?? ""))
            .Collect()
            .Select(static (all, _) => new EquatableArray<ContractFile>(all.ToArray()))
            .WithTrackingName(TrackingNames.ContractFiles);
        IncrementalValueProvider<bool> accepting = context.AnalyzerConfigOptionsProvider
            .Select(static (options, _) => options.GlobalOptions.TryGetValue("build_property.TypedZmqAcceptContract", out string? value) &&
                string.Equals(value, "true", System.StringComparison.OrdinalIgnoreCase));
        IncrementalValueProvider<bool> incomplete = parsed
            .Where(static service => service is null) // a service with contract errors (reported by the analyzer)
            .Collect()
            .Select(static (failed, _) => failed.Length > 0);
        context.RegisterSourceOutput(
            entries.Combine(files).Combine(accepting).Combine(incomplete),
            static (spc, input) => Contract(spc, input.Left.Left.Left, input.Left.Left.Right, input.Left.Right, input.Right));
    }

    private static bool IsContractFile(string path) =>
        Path.GetFileName(path) is ContractFile.ShippedName or ContractFile.UnshippedName;

    /// <summary>
    /// Reports what the contract files say about the code, and writes the entries the unshipped file should hold into
    /// a generated file, from which the build's accept step (<c>-p:TypedZmqAcceptContract=true</c>) copies them.
    /// </summary>
    private static void Contract(SourceProductionContext context, EquatableArray<string> entries, EquatableArray<ContractFile> files, bool accepting, bool incomplete)
    {
        ContractFile? shipped = files.FirstOrDefault(static f => f.Shipped);
        ContractFile? unshipped = files.FirstOrDefault(static f => !f.Shipped);
        if (shipped is null && unshipped is null)
        {
            return; // not opted in
        }

        (List<Diagnostic> diagnostics, List<string> toRecord) = ContractCheck.Run(entries, shipped, unshipped, accepting, incomplete);
        foreach (Diagnostic diagnostic in diagnostics)
        {
            context.ReportDiagnostic(diagnostic);
        }

        var text = new System.Text.StringBuilder();
        text.AppendLine("// <auto-generated/>");
        text.AppendLine("// The wire contract of this assembly (docs/versioning.md). The lines below marked TZMQ-UNSHIPPED are what");
        text.AppendLine("// TypedZmq.Contract.Unshipped.txt should hold; `dotnet build -p:TypedZmqAcceptContract=true` writes them there.");
        foreach (string line in toRecord)
        {
            text.Append("// TZMQ-UNSHIPPED ").AppendLine(line);
        }

        context.AddSource("TypedZmq.Contract.g.cs", text.ToString());
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
