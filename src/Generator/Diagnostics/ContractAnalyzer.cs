using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;

namespace TypedZmq.Generator.Diagnostics;

/// <summary>
/// Reports broken TypedZmq contracts (TZMQ0001 to TZMQ0012) as ordinary analyzer diagnostics, so they show in the IDE
/// as you type, point at the offending member, and honour <c>#pragma warning disable</c> and .editorconfig severities.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class ContractAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
        DiagnosticDescriptors.NotAnInterface,
        DiagnosticDescriptors.GenericInterface,
        DiagnosticDescriptors.InaccessibleInterface,
        DiagnosticDescriptors.UnsupportedMember,
        DiagnosticDescriptors.GenericMethod,
        DiagnosticDescriptors.ByRefParameter,
        DiagnosticDescriptors.CancellationTokenNotLast,
        DiagnosticDescriptors.UnsupportedReturnType,
        DiagnosticDescriptors.DuplicateMethodId,
        DiagnosticDescriptors.NotSerializable,
        DiagnosticDescriptors.StreamArgument,
        DiagnosticDescriptors.DuplicateService,
        DiagnosticDescriptors.DuplicateServiceId);

    /// <inheritdoc />
    public override void Initialize(AnalysisContext context)
    {
        context.EnableConcurrentExecution();
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.RegisterCompilationStartAction(static start =>
        {
            if (start.Compilation.GetTypeByMetadataName(ContractSymbols.RpcServiceAttribute) is null)
            {
                return; // TypedZmq is not referenced: nothing to check.
            }

            var services = new ConcurrentBag<ServiceEntry>();
            start.RegisterSymbolAction(ctx => AnalyzeInterface(ctx, services), SymbolKind.NamedType);
            start.RegisterSyntaxNodeAction(ctx => AnalyzeAssemblyAttribute(ctx, services), SyntaxKind.Attribute);
            start.RegisterCompilationEndAction(ctx => ReportServiceIdCollisions(ctx, services));
        });
    }

    private static void AnalyzeInterface(SymbolAnalysisContext context, ConcurrentBag<ServiceEntry> services)
    {
        var type = (INamedTypeSymbol)context.Symbol;
        AttributeData? attribute = type.GetAttributes().FirstOrDefault(
            static a => a.AttributeClass?.ToDisplayString() == ContractSymbols.RpcServiceAttribute);
        if (attribute is null)
        {
            return;
        }

        Location location = type.Locations.FirstOrDefault() ?? Location.None;
        if (type.TypeKind != TypeKind.Interface)
        {
            // The compiler also rejects [RpcService] outside interfaces (CS0592); say what TypedZmq expects.
            context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.NotAnInterface, location, type.ToDisplayString()));
            return;
        }

        foreach (ContractProblem problem in ContractRules.Check(type, attribute, context.Compilation, location, context.CancellationToken))
        {
            context.ReportDiagnostic(problem.ToDiagnostic());
        }

        (string name, uint id) = ContractSymbols.ServiceIdentity(type, attribute);
        services.Add(new ServiceEntry(name, id, location));
    }

    private static void AnalyzeAssemblyAttribute(SyntaxNodeAnalysisContext context, ConcurrentBag<ServiceEntry> services)
    {
        var syntax = (AttributeSyntax)context.Node;
        if (syntax.Parent is not AttributeListSyntax { Target.Identifier.Text: "assembly" })
        {
            return;
        }

        AttributeData? attribute = context.Compilation.Assembly.GetAttributes().FirstOrDefault(
            a => a.ApplicationSyntaxReference?.GetSyntax(context.CancellationToken) == syntax);
        if (attribute?.AttributeClass?.ToDisplayString() != ContractSymbols.RpcServiceForAttribute ||
            attribute.ConstructorArguments.Length != 1)
        {
            return;
        }

        Location location = syntax.GetLocation();
        if (attribute.ConstructorArguments[0].Value is not INamedTypeSymbol type || type.TypeKind != TypeKind.Interface)
        {
            string shown = (attribute.ConstructorArguments[0].Value as ITypeSymbol)?.ToDisplayString() ?? "null";
            context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.NotAnInterface, location, shown));
            return;
        }

        if (ContractSymbols.IsMarkedRpcService(type))
        {
            context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.DuplicateService, location, type.ToDisplayString(), "(it is marked [RpcService], so its own assembly generates it)"));
            return;
        }

        AttributeData? first = ContractSymbols.ServicesFor(context.Compilation.Assembly)
            .FirstOrDefault(pair => SymbolEqualityComparer.Default.Equals(pair.Service, type)).Attribute;
        if (first is not null && first.ApplicationSyntaxReference?.GetSyntax(context.CancellationToken) != syntax)
        {
            context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.DuplicateService, location, type.ToDisplayString(), "(an earlier [RpcServiceFor] names it)"));
            return;
        }

        foreach (ContractProblem problem in ContractRules.Check(type, attribute, context.Compilation, location, context.CancellationToken))
        {
            context.ReportDiagnostic(problem.ToDiagnostic());
        }

        (string name, uint id) = ContractSymbols.ServiceIdentity(type, attribute);
        services.Add(new ServiceEntry(name, id, location));
    }

    private static void ReportServiceIdCollisions(CompilationAnalysisContext context, ConcurrentBag<ServiceEntry> services)
    {
        foreach (IGrouping<uint, ServiceEntry> group in services.GroupBy(static s => s.Id))
        {
            ServiceEntry[] sorted = group
                .OrderBy(static s => s.Location.SourceTree?.FilePath, System.StringComparer.Ordinal)
                .ThenBy(static s => s.Location.SourceSpan.Start)
                .ToArray();
            for (int i = 1; i < sorted.Length; i++)
            {
                context.ReportDiagnostic(Diagnostic.Create(
                    DiagnosticDescriptors.DuplicateServiceId, sorted[i].Location, sorted[0].Name, sorted[i].Name, group.Key.ToString("x8", System.Globalization.CultureInfo.InvariantCulture)));
            }
        }
    }

    private sealed record ServiceEntry(string Name, uint Id, Location Location);
}
