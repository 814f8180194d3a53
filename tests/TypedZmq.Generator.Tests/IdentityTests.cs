using Microsoft.CodeAnalysis;
using TypedZmq.Generator.Tests.Infrastructure;
using TypedZmq.Protocol;

namespace TypedZmq.Generator.Tests;

/// <summary>Service and method ids are stable, distinct where they must be, and what docs/protocol.md says they are.</summary>
public sealed class IdentityTests
{
    [Fact]
    public async Task Interfaces_with_the_same_short_name_in_different_namespaces_do_not_collide()
    {
        const string source = """
            namespace Sales { [TypedZmq.RpcService] public interface IGreeter { string SayHello(string name); } }
            namespace Support { [TypedZmq.RpcService] public interface IGreeter { string SayHello(string name); } }
            """;

        var (result, output, _) = GeneratorHarness.Run(source);

        Assert.Empty(await GeneratorHarness.AnalyzeAsync(source));
        Assert.Empty(GeneratorHarness.CompilationDiagnostics(output));
        string[] generated = result.GeneratedTrees.Select(t => t.ToString()).ToArray();
        Assert.Equal(2, generated.Length);
        Assert.Contains(generated, g => g.Contains(Hex(Fnv1a.Hash("Sales.IGreeter")), StringComparison.Ordinal));
        Assert.Contains(generated, g => g.Contains(Hex(Fnv1a.Hash("Support.IGreeter")), StringComparison.Ordinal));
        Assert.NotEqual(Fnv1a.Hash("Sales.IGreeter"), Fnv1a.Hash("Support.IGreeter"));
    }

    [Fact]
    public void Ids_are_the_hash_of_the_documented_names_and_ignore_nullability_and_the_token()
    {
        string generated = Generate("""
            using System.Threading;
            using System.Threading.Tasks;
            namespace Shop;
            [TypedZmq.RpcService]
            public interface IOrders
            {
                Task<string?> FindAsync(string? sku, int? limit, CancellationToken cancellationToken);
            }
            """);

        Assert.Contains($"public const uint Id = {Hex(Fnv1a.Hash("Shop.IOrders"))};", generated, StringComparison.Ordinal);
        Assert.Contains($"case {Hex(Fnv1a.Hash("FindAsync(System.String,System.Nullable<System.Int32>)"))}:", generated, StringComparison.Ordinal);
    }

    [Fact]
    public void Renaming_a_parameter_keeps_the_method_id_and_changing_its_type_changes_it()
    {
        string before = Generate("[TypedZmq.RpcService] public interface IA { void Put(int value); }");
        string renamed = Generate("[TypedZmq.RpcService] public interface IA { void Put(int amount); }");
        string retyped = Generate("[TypedZmq.RpcService] public interface IA { void Put(long value); }");

        Assert.Equal(CaseLine(before), CaseLine(renamed));
        Assert.NotEqual(CaseLine(before), CaseLine(retyped));
    }

    private static string Generate(string source)
    {
        var (result, output, _) = GeneratorHarness.Run(source);
        Assert.Empty(GeneratorHarness.CompilationDiagnostics(output));
        return Assert.Single(result.GeneratedTrees).ToString();
    }

    private static string CaseLine(string generated) =>
        generated.Split('\n').Single(l => l.TrimStart().StartsWith("case 0x", StringComparison.Ordinal)).Trim();

    private static string Hex(uint value) => "0x" + value.ToString("X8", System.Globalization.CultureInfo.InvariantCulture) + "u";
}
