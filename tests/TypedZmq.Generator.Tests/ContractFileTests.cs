using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;
using TypedZmq.Generator.Tests.Infrastructure;

namespace TypedZmq.Generator.Tests;

/// <summary>
/// The contract files (docs/versioning.md): the version-1 contract below is shipped; each edit of it must give the
/// diagnostic the versioning table promises, at the shipped line it breaks, and the accept output must hold exactly the
/// entries the shipped file lacks.
/// </summary>
public sealed class ContractFileTests
{
    private const string Version1 = """
        using System.Threading.Tasks;
        using MemoryPack;
        using TypedZmq;
        namespace Shop;

        [MemoryPackable]
        public partial record Item(string Name, int Count);

        [MemoryPackable]
        public partial record Order(Item Line);

        [MemoryPackable]
        public partial class Empty
        {
        }

        [MemoryPackUnion(0, typeof(Small))]
        [MemoryPackUnion(1, typeof(Big))]
        [MemoryPackable]
        public partial interface ISize
        {
        }

        [MemoryPackable] public partial record Small(int X) : ISize;
        [MemoryPackable] public partial record Big(long X) : ISize;
        [MemoryPackable] public partial record Huge(decimal X) : ISize;

        [MemoryPackable(GenerateType.VersionTolerant)]
        public partial class Evolving
        {
            [MemoryPackOrder(0)] public string First { get; set; } = "";
        }

        [RpcService]
        public interface IShop
        {
            Task<int> PlaceAsync(string sku, int quantity);
            Item Get(string name);
            Evolving Load();
            [RpcMethod(Idempotent = true)]
            int Count();
            void Place(Order order, Empty marker, ISize size);
        }
        """;

    private const string OtherItem = """
        using MemoryPack;
        namespace Shop.Other;

        [MemoryPackable]
        public partial record Item(int Code);
        """;

    private const string ShippedPath = "/project/TypedZmq.Contract.Shipped.txt";
    private const string UnshippedPath = "/project/TypedZmq.Contract.Unshipped.txt";

    public static TheoryData<string, string, string, string> Breaking => new()
    {
        { "a method renamed", "Item Get(string name);", "Item Fetch(string name);", "method Shop.IShop.Get(System.String)' is gone" },
        { "a parameter type changed", "Item Get(string name);", "Item Get(long name);", "method Shop.IShop.Get(System.String)' is gone" },
        { "a parameter added", "Task<int> PlaceAsync(string sku, int quantity);", "Task<int> PlaceAsync(string sku, int quantity, bool rush);", "method Shop.IShop.PlaceAsync(System.String,System.Int32)' is gone" },
        { "the result type changed", "int Count();", "long Count();", "method Shop.IShop.Count()' changed from 'returns Fixed<int>()' to 'returns Fixed<long>()'" },
        { "a result turned into a stream", "Item Get(string name);", "System.Collections.Generic.IAsyncEnumerable<Item> Get(string name);", "method Shop.IShop.Get(System.String)' changed from 'returns schema of Shop.Item' to 'returns Tuple(Fixed<bool>(), Sequence(schema of Shop.Item))'" },
        { "a record member retyped to a type of the same short name", "public partial record Order(Item Line);", "public partial record Order(Other.Item Line);", "type Shop.Order' member 1 (shipped as schema of Shop.Item) is now schema of Shop.Other.Item" },
        { "a union case removed", "[MemoryPackUnion(1, typeof(Big))]\n", "", "type Shop.ISize' no longer has the case '1: schema of Shop.Big'" },
        { "a method id changed", "Item Get(string name);", "[RpcMethod(Id = 7)] Item Get(string name);", "method Shop.IShop.Get(System.String)' changed from 'id=0x" },
        { "the service renamed", "public interface IShop", "public interface IStore", "service Shop.IShop' is gone" },
        { "the service id changed", "[RpcService]", "[RpcService(Id = 9)]", "service Shop.IShop' changed from 'id=0x" },
        { "a member added to a default-layout record", "record Item(string Name, int Count)", "record Item(string Name, int Count, bool Rush)", "type Shop.Item' has members appended" },
        { "a member removed", "record Item(string Name, int Count)", "record Item(string Name)", "type Shop.Item' member 2 (shipped as Fixed<int>()) is gone" },
        { "a member retyped", "record Item(string Name, int Count)", "record Item(string Name, long Count)", "type Shop.Item' member 2 (shipped as Fixed<int>()) is now Fixed<long>()" },
        { "a type switched to version-tolerant", "[MemoryPackable]\n", "[MemoryPackable(GenerateType.VersionTolerant)]\n", "type Shop.Item' changed its layout from Object to VersionTolerant" },
    };

    public static TheoryData<string, string, string, int> Allowed => new()
    {
        // (edit, from, to, entries to record in the unshipped file)
        { "a parameter renamed", "Item Get(string name);", "Item Get(string itemName);", 0 },
        { "a result made asynchronous", "Item Get(string name);", "Task<Item> Get(string name);", 0 },
        { "a cancellation token added", "Item Get(string name);", "Item Get(string name, System.Threading.CancellationToken cancellationToken);", 0 },
        { "a member of a record renamed", "record Item(string Name, int Count)", "record Item(string Title, int Count)", 0 },
        { "a method added", "int Count();", "int Count();\n    string Ping();", 1 },
        { "a member added to a version-tolerant type", "[MemoryPackOrder(0)] public string First { get; set; } = \"\";", "[MemoryPackOrder(0)] public string First { get; set; } = \"\";\n    [MemoryPackOrder(1)] public int Second { get; set; }", 1 },
        { "a method marked idempotent", "Item Get(string name);", "[RpcMethod(Idempotent = true)] Item Get(string name);", 1 },
        { "a parameter's default value changed", "Task<int> PlaceAsync(string sku, int quantity);", "Task<int> PlaceAsync(string sku, int quantity = 1);", 0 },
        { "a nullable annotation on the result", "Item Get(string name);", "Item? Get(string name);", 0 },
        { "a union case added", "[MemoryPackUnion(1, typeof(Big))]", "[MemoryPackUnion(1, typeof(Big))]\n[MemoryPackUnion(2, typeof(Huge))]", 2 },
        { "union cases declared in another order", "[MemoryPackUnion(0, typeof(Small))]\n[MemoryPackUnion(1, typeof(Big))]", "[MemoryPackUnion(1, typeof(Big))]\n[MemoryPackUnion(0, typeof(Small))]", 0 },
        { "the interface renamed, its wire name kept", "[RpcService]\npublic interface IShop", "[RpcService(\"Shop.IShop\")]\npublic interface IStore", 0 },
        { "a service added", "[RpcService]\npublic interface IShop", "[RpcService]\npublic interface IExtra\n{\n    int One();\n}\n\n[RpcService]\npublic interface IShop", 2 },
    };

    [Theory]
    [MemberData(nameof(Breaking))]
    public void A_breaking_change_to_a_shipped_entry_is_an_error_at_its_line(string change, string from, string to, string message)
    {
        string shipped = Shipped();
        string edited = Edit(from, to);

        ImmutableArray<Diagnostic> diagnostics = Run(edited, shipped, unshipped: "").Diagnostics;

        // (A renamed service also takes its methods' entries with it: one error each.)
        Assert.All(diagnostics, d => Assert.Contains(d.Id, new[] { "TZMQ0020", "TZMQ0021" }));
        Diagnostic error = Assert.Single(diagnostics, d => d.Id == "TZMQ0020" && d.GetMessage().Contains(message, StringComparison.Ordinal));
        Assert.Equal(DiagnosticSeverity.Error, error.Severity);
        Assert.Equal(ShippedPath, error.Location.GetLineSpan().Path);
        string brokenLine = shipped.Split('\n')[error.Location.GetLineSpan().StartLinePosition.Line];
        Assert.StartsWith(message.Split('\'')[0], brokenLine, StringComparison.Ordinal); // the line of the entry it names
        _ = change;
    }

    [Theory]
    [MemberData(nameof(Allowed))]
    public void A_compatible_change_is_no_error_and_only_asks_to_record_what_changed(string change, string from, string to, int toRecord)
    {
        string shipped = Shipped();
        string edited = Edit(from, to);

        (ImmutableArray<Diagnostic> diagnostics, string[] unshipped) = Run(edited, shipped, unshipped: "");

        Assert.DoesNotContain(diagnostics, d => d.Severity == DiagnosticSeverity.Error);
        Assert.Equal(toRecord, diagnostics.Count(d => d.Id == "TZMQ0021"));
        Assert.Equal(toRecord, unshipped.Length);

        // Recorded, the warnings are gone.
        Assert.Empty(Run(edited, shipped, string.Join('\n', unshipped)).Diagnostics);
        _ = change;
    }

    [Fact]
    public void An_explicit_id_equal_to_the_old_one_changes_nothing()
    {
        string shipped = Shipped();
        string get = shipped.Split('\n').Single(line => line.StartsWith("method Shop.IShop.Get(System.String) | ", StringComparison.Ordinal));
        string id = get.Split(" | ")[1]["id=".Length..];

        Assert.Empty(Run(Edit("Item Get(string name);", $"[RpcMethod(Id = {id})] Item Get(string name);"), shipped, unshipped: "").Diagnostics);
    }

    [Fact]
    public void A_method_renamed_with_its_old_id_is_no_error()
    {
        string shipped = Shipped();
        string get = shipped.Split('\n').Single(line => line.StartsWith("method Shop.IShop.Get(System.String) | ", StringComparison.Ordinal));
        string id = get.Split(" | ")[1]["id=".Length..];

        ImmutableArray<Diagnostic> diagnostics = Run(Edit("Item Get(string name);", $"[RpcMethod(Id = {id})] Item Fetch(string name);"), shipped, unshipped: "").Diagnostics;

        Assert.DoesNotContain(diagnostics, d => d.Severity == DiagnosticSeverity.Error);
        Assert.Contains(diagnostics, d => d.Id == "TZMQ0021" && d.GetMessage().Contains("Shop.IShop.Fetch(System.String)", StringComparison.Ordinal));
    }

    [Fact]
    public void An_unchanged_contract_is_clean_also_with_trimmed_lines_and_windows_line_endings()
    {
        string shipped = Shipped();

        Assert.Empty(Run(Version1, shipped, unshipped: "").Diagnostics);
        string asWritten = string.Join("\r\n", shipped.Split('\n').Select(line => line.Trim())) + "\r\n";
        Assert.Empty(Run(Version1, asWritten, unshipped: "\r\n").Diagnostics);
    }

    [Fact]
    public void A_service_with_contract_errors_is_not_reported_as_gone()
    {
        // A property is TZMQ0004 (the analyzer's error): the service generates nothing, but it has not been removed.
        string edited = Edit("int Count();", "int Count();\n    int Size { get; }");

        Assert.DoesNotContain(Run(edited, Shipped(), unshipped: "").Diagnostics, d => d.Id == "TZMQ0020");
    }

    [Fact]
    public void Accepting_writes_exactly_the_new_entries_and_keeps_recorded_ones_byte_for_byte()
    {
        string shipped = Shipped();
        string first = Edit("int Count();", "int Count();\n    string Ping();");
        string[] recorded = Run(first, shipped, unshipped: "").Unshipped;
        string line = Assert.Single(recorded);
        Assert.StartsWith("method Shop.IShop.Ping() | id=0x", line, StringComparison.Ordinal);

        // A second method later: the first entry stays exactly as it was, the new one is added in key order.
        string second = first.Replace("string Ping();", "string Ping();\n    string Pong();", StringComparison.Ordinal);
        string[] next = Run(second, shipped, string.Join('\n', recorded)).Unshipped;
        Assert.Equal(2, next.Length);
        Assert.Equal(line, next[0]);
        Assert.StartsWith("method Shop.IShop.Pong() | id=0x", next[1], StringComparison.Ordinal);
    }

    [Fact]
    public void Accepting_reports_no_warnings_about_the_unshipped_file_it_is_about_to_rewrite()
    {
        string edited = Edit("int Count();", "int Count();\n    string Ping();");

        Assert.Empty(Run(edited, Shipped(), unshipped: "stale line", accepting: true).Diagnostics);
    }

    [Fact]
    public void Stale_or_outdated_unshipped_entries_and_lines_that_are_not_entries_are_reported()
    {
        string shipped = Shipped();
        string edited = Edit("int Count();", "int Count();\n    string Ping();");
        string ping = Assert.Single(Run(edited, shipped, unshipped: "").Unshipped);
        string unshipped = string.Join('\n', ping.Replace("returns String", "returns Fixed<int>()", StringComparison.Ordinal), "method Shop.IShop.Gone() | id=0x00000001 | returns int", "not an entry");

        ImmutableArray<Diagnostic> diagnostics = Run(edited, shipped, unshipped).Diagnostics;

        Assert.Contains(diagnostics, d => d.Id == "TZMQ0021" && d.GetMessage().Contains("no longer matches the code", StringComparison.Ordinal) && d.Location.GetLineSpan().StartLinePosition.Line == 0);
        Assert.Contains(diagnostics, d => d.Id == "TZMQ0021" && d.GetMessage().Contains("describes nothing new", StringComparison.Ordinal) && d.Location.GetLineSpan().StartLinePosition.Line == 1);
        Assert.Contains(diagnostics, d => d.Id == "TZMQ0022" && d.Location.GetLineSpan().StartLinePosition.Line == 2);
        Assert.Equal(3, diagnostics.Length);
    }

    [Fact]
    public void Without_contract_files_nothing_is_checked_or_generated()
    {
        GeneratorDriverRunResult result = CreateDriver(shipped: null, unshipped: null, accepting: false)
            .RunGenerators(GeneratorHarness.Compile(Edit("int Count();", "long Count();")), TestContext.Current.CancellationToken)
            .GetRunResult();

        Assert.Empty(result.Diagnostics);
        Assert.DoesNotContain(result.Results.Single().GeneratedSources, s => s.HintName == "TypedZmq.Contract.g.cs");
    }

    [Fact]
    public void An_edit_that_changes_no_contract_leaves_the_contract_steps_cached()
    {
        const string Unrelated = "namespace Shop; public static class Helpers { public static int Twice(int x) => x * 2; }";
        CSharpCompilation first = GeneratorHarness.Compile(Version1, Unrelated);
        GeneratorDriver driver = CreateDriver(Shipped(), "", accepting: false).RunGenerators(first, TestContext.Current.CancellationToken);

        CSharpCompilation second = first.ReplaceSyntaxTree(
            first.SyntaxTrees.ElementAt(1),
            CSharpSyntaxTree.ParseText(Unrelated.Replace("x * 2", "x + x", StringComparison.Ordinal), GeneratorHarness.ParseOptions, path: "Contract1.cs", cancellationToken: TestContext.Current.CancellationToken));
        GeneratorRunResult result = driver.RunGenerators(second, TestContext.Current.CancellationToken).GetRunResult().Results.Single();

        Assert.All(
            result.TrackedSteps[TrackingNames.ContractEntries].SelectMany(step => step.Outputs),
            output => Assert.True(output.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"contract entries were {output.Reason}"));
    }

    /// <summary>The shipped file of version 1: what accepting it against empty files writes.</summary>
    private static string Shipped()
    {
        (ImmutableArray<Diagnostic> diagnostics, string[] unshipped) = Run(Version1, shipped: "", unshipped: "");
        Assert.All(diagnostics, d => Assert.Equal("TZMQ0021", d.Id));
        Assert.Contains(unshipped, line => line.StartsWith("type Shop.Item | Object | String, Fixed<int>()", StringComparison.Ordinal));
        return string.Join('\n', unshipped);
    }

    private static string Edit(string from, string to)
    {
        Assert.Contains(from, Version1, StringComparison.Ordinal);
        return Version1.Replace(from, to, StringComparison.Ordinal);
    }

    private static (ImmutableArray<Diagnostic> Diagnostics, string[] Unshipped) Run(string source, string? shipped, string? unshipped, bool accepting = false)
    {
        GeneratorDriverRunResult result = CreateDriver(shipped, unshipped, accepting)
            .RunGenerators(GeneratorHarness.Compile(source, OtherItem), TestContext.Current.CancellationToken)
            .GetRunResult();
        Assert.Empty(result.Results.Single().Exception is { } ex ? [ex] : Array.Empty<Exception>());
        string contract = result.Results.Single().GeneratedSources.Single(s => s.HintName == "TypedZmq.Contract.g.cs").SourceText.ToString();
        string[] lines = contract.Split('\n')
            .Where(line => line.StartsWith("// TZMQ-UNSHIPPED ", StringComparison.Ordinal))
            .Select(line => line["// TZMQ-UNSHIPPED ".Length..].TrimEnd('\r'))
            .ToArray();
        return (result.Diagnostics.Where(d => d.Id.StartsWith("TZMQ002", StringComparison.Ordinal)).ToImmutableArray(), lines);
    }

    private static GeneratorDriver CreateDriver(string? shipped, string? unshipped, bool accepting)
    {
        var files = new List<AdditionalText>();
        if (shipped is not null)
        {
            files.Add(new InMemoryText(ShippedPath, shipped));
        }

        if (unshipped is not null)
        {
            files.Add(new InMemoryText(UnshippedPath, unshipped));
        }

        return CSharpGeneratorDriver.Create(
            [new RpcServiceGenerator().AsSourceGenerator()],
            files,
            GeneratorHarness.ParseOptions,
            new AcceptOption(accepting ? "true" : ""),
            new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));
    }

    private sealed class InMemoryText(string path, string text) : AdditionalText
    {
        public override string Path => path;

        public override SourceText GetText(CancellationToken cancellationToken = default) => SourceText.From(text);
    }

    private sealed class AcceptOption(string accept) : AnalyzerConfigOptionsProvider
    {
        public override AnalyzerConfigOptions GlobalOptions { get; } = new Options(accept);

        public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => new Options("");

        public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) => new Options("");

        private sealed class Options(string accept) : AnalyzerConfigOptions
        {
            public override bool TryGetValue(string key, [NotNullWhen(true)] out string? value)
            {
                value = key == "build_property.TypedZmqAcceptContract" ? accept : null;
                return value is not null;
            }
        }
    }
}
