using System.Collections;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using TypedZmq.Generator.Tests.Infrastructure;

namespace TypedZmq.Generator.Tests;

/// <summary>
/// The pipeline caches: an edit that does not touch a contract re-runs nothing downstream, an edit to a contract
/// regenerates it, and no step output holds symbols, syntax or compilations (which would defeat caching and leak memory).
/// </summary>
public sealed class IncrementalTests
{
    private const string Contract = """
        using System.Threading.Tasks;
        namespace Shop;
        [TypedZmq.RpcService]
        public interface IOrders
        {
            Task<int> PlaceAsync(string sku, int quantity);
        }
        """;

    private const string Unrelated = """
        namespace Shop;
        public static class Helpers
        {
            public static int Twice(int x) => x * 2;
        }
        """;

    private const string Imported = """
        [assembly: TypedZmq.RpcServiceFor(typeof(Shop.IPlain))]
        namespace Shop;
        public interface IPlain
        {
            string Echo(string text);
        }
        """;

    private static readonly string[] TrackedSteps = [TrackingNames.Services, TrackingNames.ServiceModels, TrackingNames.ImportedServices, TrackingNames.ImportedServiceModels];

    [Fact]
    public void An_unrelated_edit_leaves_every_step_cached()
    {
        CSharpCompilation first = GeneratorHarness.Compile(Contract, Unrelated);
        GeneratorDriver driver = GeneratorHarness.CreateDriver().RunGenerators(first, TestContext.Current.CancellationToken);

        CSharpCompilation second = ReplaceTree(first, 1, Unrelated.Replace("x * 2", "x + x", StringComparison.Ordinal));
        GeneratorRunResult result = driver.RunGenerators(second, TestContext.Current.CancellationToken).GetRunResult().Results.Single();

        foreach (string step in new[] { TrackingNames.Services, TrackingNames.ServiceModels })
        {
            Assert.All(
                Outputs(result, step),
                output => Assert.True(
                    output.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged,
                    $"step {step} was {output.Reason} after an unrelated edit"));
        }

        var sourceOutputs = result.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs).ToList();
        Assert.NotEmpty(sourceOutputs);
        Assert.All(sourceOutputs, output => Assert.Equal(IncrementalStepRunReason.Cached, output.Reason));
    }

    [Fact]
    public void Editing_the_contract_regenerates_it()
    {
        CSharpCompilation first = GeneratorHarness.Compile(Contract, Unrelated);
        GeneratorDriver driver = GeneratorHarness.CreateDriver().RunGenerators(first, TestContext.Current.CancellationToken);

        CSharpCompilation second = ReplaceTree(first, 0, Contract.Replace("int quantity", "long quantity", StringComparison.Ordinal));
        GeneratorRunResult result = driver.RunGenerators(second, TestContext.Current.CancellationToken).GetRunResult().Results.Single();

        Assert.Contains(
            Outputs(result, TrackingNames.ServiceModels),
            output => output.Reason == IncrementalStepRunReason.Modified);
        Assert.Contains("long quantity", result.GeneratedSources.Single().SourceText.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Editing_a_method_body_elsewhere_in_the_contract_file_keeps_the_model_unchanged()
    {
        const string withHelper = Contract + "\npublic static class Local { public static int One() => 1; }\n";
        CSharpCompilation first = GeneratorHarness.Compile(withHelper);
        GeneratorDriver driver = GeneratorHarness.CreateDriver().RunGenerators(first, TestContext.Current.CancellationToken);

        CSharpCompilation second = ReplaceTree(first, 0, withHelper.Replace("=> 1;", "=> 2;", StringComparison.Ordinal));
        GeneratorRunResult result = driver.RunGenerators(second, TestContext.Current.CancellationToken).GetRunResult().Results.Single();

        Assert.All(
            Outputs(result, TrackingNames.ServiceModels),
            output => Assert.True(output.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"was {output.Reason}"));
    }

    [Fact]
    public void No_step_output_holds_a_symbol_syntax_node_location_or_compilation()
    {
        GeneratorRunResult result = GeneratorHarness.CreateDriver()
            .RunGenerators(GeneratorHarness.Compile(Contract, Imported), TestContext.Current.CancellationToken)
            .GetRunResult().Results.Single();

        foreach (string step in TrackedSteps)
        {
            Assert.True(result.TrackedSteps.ContainsKey(step), $"step {step} is not tracked");
            foreach (object value in result.TrackedSteps[step].SelectMany(s => s.Outputs).Select(o => o.Value))
            {
                AssertHoldsNoCompilerObjects(value, step, []);
            }
        }
    }

    private static List<(object Value, IncrementalStepRunReason Reason)> Outputs(GeneratorRunResult result, string step)
    {
        Assert.True(result.TrackedSteps.ContainsKey(step), $"step {step} is not tracked");
        var outputs = result.TrackedSteps[step].SelectMany(s => s.Outputs).ToList();
        Assert.NotEmpty(outputs);
        return outputs;
    }

    private static void AssertHoldsNoCompilerObjects(object? value, string path, HashSet<object> seen)
    {
        if (value is null || value is string || value.GetType().IsPrimitive || value.GetType().IsEnum || !seen.Add(value))
        {
            return;
        }

        Assert.False(
            value is ISymbol or SyntaxNode or Location or Compilation or SemanticModel or SyntaxTree,
            $"{path} holds a {value.GetType().Name}, which pins the compilation and breaks caching");

        if (value is IEnumerable items)
        {
            int i = 0;
            foreach (object? item in items)
            {
                AssertHoldsNoCompilerObjects(item, $"{path}[{i++}]", seen);
            }
        }

        foreach (FieldInfo field in value.GetType().GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
        {
            AssertHoldsNoCompilerObjects(field.GetValue(value), $"{path}.{field.Name}", seen);
        }
    }

    private static CSharpCompilation ReplaceTree(CSharpCompilation compilation, int index, string text)
    {
        SyntaxTree old = compilation.SyntaxTrees[index];
        return compilation.ReplaceSyntaxTree(old, CSharpSyntaxTree.ParseText(text, GeneratorHarness.ParseOptions, old.FilePath));
    }
}
