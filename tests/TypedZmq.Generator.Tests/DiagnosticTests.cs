using Microsoft.CodeAnalysis;
using TypedZmq.Generator.Tests.Infrastructure;

namespace TypedZmq.Generator.Tests;

/// <summary>Contract mistakes the generator cannot turn into code are build errors that point at the member and say the fix.</summary>
public sealed class DiagnosticTests
{
    [Theory]
    [InlineData("int Count { get; }", "Count", "property")]
    [InlineData("event System.EventHandler Changed;", "Changed", "event")]
    [InlineData("int this[int i] { get; }", "this[]", "indexer")]
    public void Non_method_members_are_TZMQ0001(string member, string name, string kind)
    {
        Diagnostic diagnostic = Assert.Single(Run($$"""
            [TypedZmq.RpcService]
            public interface IContract
            {
                void Ping();
                {{member}}
            }
            """));

        Assert.Equal("TZMQ0001", diagnostic.Id);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        Assert.Contains($"'{name}' is a {kind}", diagnostic.GetMessage());
        Assert.Equal(5, diagnostic.Location.GetLineSpan().StartLinePosition.Line + 1);
    }

    [Theory]
    [InlineData("T Get<T>();", "generic methods are not supported")]
    [InlineData("void Fill(ref int value);", "passed by reference")]
    [InlineData("bool TryGet(out string value);", "passed by reference")]
    [InlineData("void Use(in int value);", "passed by reference")]
    [InlineData("void Wait(System.Threading.CancellationToken token, int ms);", "CancellationToken must be the last parameter")]
    [InlineData("System.Collections.Generic.IAsyncEnumerable<int> Stream();", "streaming")]
    [InlineData("ref int Slot();", "ref returns")]
    public void Unsupported_method_shapes_are_TZMQ0002(string method, string reason)
    {
        Diagnostic diagnostic = Assert.Single(Run($$"""
            [TypedZmq.RpcService]
            public interface IContract
            {
                {{method}}
            }
            """));

        Assert.Equal("TZMQ0002", diagnostic.Id);
        Assert.Contains(reason, diagnostic.GetMessage());
        Assert.Equal(4, diagnostic.Location.GetLineSpan().StartLinePosition.Line + 1);
    }

    [Fact]
    public void Colliding_method_ids_are_TZMQ0003()
    {
        // FNV-1a("Op1422789()") == FNV-1a("Op1639192()") == 0xb8935310: a real 32-bit collision.
        Diagnostic diagnostic = Assert.Single(Run("""
            [TypedZmq.RpcService]
            public interface IContract
            {
                void Op1422789();
                void Op1639192();
            }
            """));

        Assert.Equal("TZMQ0003", diagnostic.Id);
        Assert.Contains("Op1422789()", diagnostic.GetMessage());
        Assert.Contains("Op1639192()", diagnostic.GetMessage());
        Assert.Contains("b8935310", diagnostic.GetMessage());
        Assert.Equal(5, diagnostic.Location.GetLineSpan().StartLinePosition.Line + 1);
    }

    [Fact]
    public void A_contract_with_errors_generates_nothing_so_only_the_real_error_shows()
    {
        var (result, _, _) = GeneratorHarness.Run("""
            [TypedZmq.RpcService]
            public interface IContract
            {
                int Count { get; }
            }
            """);

        Assert.Empty(result.GeneratedTrees);
    }

    [Fact]
    public void Valid_contracts_report_nothing()
    {
        Assert.Empty(Run("""
            using System.Threading;
            using System.Threading.Tasks;
            [TypedZmq.RpcService]
            public interface IContract
            {
                void Ping();
                Task<int> CountAsync(string text, CancellationToken cancellationToken = default);
                static int Helper() => 1;
                int Defaulted() => 42;
            }
            """));
    }

    private static IReadOnlyList<Diagnostic> Run(string source) => GeneratorHarness.Run(source).Diagnostics;
}
