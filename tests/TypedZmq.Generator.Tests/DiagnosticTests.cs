using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using TypedZmq.Generator.Tests.Infrastructure;

namespace TypedZmq.Generator.Tests;

/// <summary>
/// Every contract rule: the diagnostic fires with the right id, severity and span, says the fix, and valid code stays
/// clean. Diagnostics come from the contract analyzer, so #pragma and .editorconfig apply as to any other warning.
/// </summary>
public sealed class DiagnosticTests
{
    [Fact]
    public async Task TZMQ0001_RpcServiceFor_a_class()
    {
        Diagnostic d = Assert.Single(await AnalyzeAsync("""
            [assembly: TypedZmq.RpcServiceFor(typeof(Billing))]
            public class Billing { }
            """));

        AssertDiagnostic(d, "TZMQ0001", DiagnosticSeverity.Error, "TypedZmq.RpcServiceFor(typeof(Billing))", "'Billing' is not an interface");
    }

    [Fact]
    public async Task TZMQ0002_generic_service_interface()
    {
        Diagnostic d = Assert.Single(await AnalyzeAsync("""
            [TypedZmq.RpcService]
            public interface IRepository<T>
            {
                int Count();
            }
            """));

        AssertDiagnostic(d, "TZMQ0002", DiagnosticSeverity.Error, "IRepository", "is generic");
    }

    [Fact]
    public async Task TZMQ0003_interface_nested_in_a_private_scope()
    {
        Diagnostic d = Assert.Single(await AnalyzeAsync("""
            public class Outer
            {
                [TypedZmq.RpcService]
                private interface IHidden
                {
                    void Ping();
                }
            }
            """));

        AssertDiagnostic(d, "TZMQ0003", DiagnosticSeverity.Error, "IHidden", "not accessible");
    }

    [Theory]
    [InlineData("int Count { get; }", "Count", "'Count' is a property")]
    [InlineData("event System.EventHandler Changed;", "Changed", "'Changed' is an event")]
    [InlineData("int this[int i] { get; }", "this", "'this[]' is an indexer")]
    public async Task TZMQ0004_properties_events_and_indexers(string member, string span, string message)
    {
        Diagnostic d = Assert.Single(await AnalyzeAsync($$"""
            [TypedZmq.RpcService]
            public interface IContract
            {
                void Ping();
                {{member}}
            }
            """));

        AssertDiagnostic(d, "TZMQ0004", DiagnosticSeverity.Error, span, message);
    }

    [Fact]
    public async Task TZMQ0005_generic_method()
    {
        Diagnostic d = Assert.Single(await AnalyzeAsync("""
            [TypedZmq.RpcService]
            public interface IContract
            {
                T Get<T>();
            }
            """));

        AssertDiagnostic(d, "TZMQ0005", DiagnosticSeverity.Error, "Get", "'Get' is generic");
    }

    [Theory]
    [InlineData("void Fill(ref int value);", "ref")]
    [InlineData("bool TryGet(out string value);", "out")]
    [InlineData("void Use(in int value);", "in")]
    public async Task TZMQ0006_by_reference_parameters(string method, string kind)
    {
        Diagnostic d = Assert.Single(await AnalyzeAsync($$"""
            [TypedZmq.RpcService]
            public interface IContract
            {
                {{method}}
            }
            """));

        AssertDiagnostic(d, "TZMQ0006", DiagnosticSeverity.Error, "value", $"is passed by reference ({kind})");
    }

    [Fact]
    public async Task TZMQ0007_cancellation_token_not_last()
    {
        Diagnostic d = Assert.Single(await AnalyzeAsync("""
            [TypedZmq.RpcService]
            public interface IContract
            {
                void Wait(System.Threading.CancellationToken token, int milliseconds);
            }
            """));

        AssertDiagnostic(d, "TZMQ0007", DiagnosticSeverity.Error, "token", "move it to the end");
    }

    [Theory]
    [InlineData("System.Collections.Generic.IAsyncEnumerator<int> Stream();", "Stream", "return IAsyncEnumerable<T> to stream")]
    [InlineData("System.Threading.Tasks.Task<System.Collections.Generic.IAsyncEnumerable<int>> Stream();", "Stream", "not wrapped in a task")]
    [InlineData("ref int Slot();", "Slot", "ref returns are not supported")]
    [InlineData("System.Span<byte> Buffer();", "Buffer", "a ref struct cannot be serialized")]
    public async Task TZMQ0008_unsupported_return_types(string method, string span, string reason)
    {
        Diagnostic d = Assert.Single(await AnalyzeAsync($$"""
            [TypedZmq.RpcService]
            public interface IContract
            {
                {{method}}
            }
            """));

        AssertDiagnostic(d, "TZMQ0008", DiagnosticSeverity.Error, span, reason);
    }

    [Fact]
    public async Task Stream_results_and_one_stream_argument_in_a_task_method_are_accepted()
    {
        Assert.Empty(await AnalyzeAsync("""
            using System.Collections.Generic;
            using System.Threading;
            using System.Threading.Tasks;
            [TypedZmq.RpcService]
            public interface IFeed
            {
                IAsyncEnumerable<string> Tail(int from, CancellationToken cancellationToken);
                Task<long> Sum(string label, IAsyncEnumerable<int> values, CancellationToken cancellationToken);
                ValueTask Upload(IAsyncEnumerable<byte[]> chunks);
            }
            """));
    }

    [Theory]
    [InlineData("int Sum(IAsyncEnumerable<int> values);", "needs the method to return Task")]
    [InlineData("Task Zip(IAsyncEnumerable<int> left, IAsyncEnumerable<int> values);", "must be the only stream argument")]
    [InlineData("IAsyncEnumerable<int> Echo(IAsyncEnumerable<int> values);", "cannot be combined with a stream result")]
    public async Task TZMQ0023_stream_arguments_the_runtime_cannot_carry(string method, string reason)
    {
        Diagnostic d = Assert.Single(await AnalyzeAsync($$"""
            using System.Collections.Generic;
            using System.Threading.Tasks;
            [TypedZmq.RpcService]
            public interface IUpload
            {
                {{method}}
            }
            """));

        AssertDiagnostic(d, "TZMQ0023", DiagnosticSeverity.Error, "values", reason);
    }

    [Fact]
    public async Task TZMQ0009_colliding_hashed_method_ids()
    {
        // FNV-1a("Op1422789()") == FNV-1a("Op1639192()") == 0xb8935310: a real 32-bit collision.
        Diagnostic d = Assert.Single(await AnalyzeAsync("""
            [TypedZmq.RpcService]
            public interface IContract
            {
                void Op1422789();
                void Op1639192();
            }
            """));

        AssertDiagnostic(d, "TZMQ0009", DiagnosticSeverity.Error, "Op1639192", "'Op1422789()' and 'Op1639192()'");
        Assert.Contains("0xb8935310", d.GetMessage());
    }

    [Fact]
    public async Task TZMQ0009_duplicate_explicit_method_ids()
    {
        Diagnostic d = Assert.Single(await AnalyzeAsync("""
            using TypedZmq;
            [RpcService]
            public interface IContract
            {
                [RpcMethod(Id = 7)] void First();
                [RpcMethod(Id = 7)] void Second();
            }
            """));

        AssertDiagnostic(d, "TZMQ0009", DiagnosticSeverity.Error, "Second", "0x00000007");
    }

    [Theory]
    [InlineData("void Send(System.IO.Stream data);", "data", "Parameter 'data'")]
    [InlineData("object Get();", "Get", "The return value")]
    [InlineData("System.Threading.Tasks.Task<Plain> GetAsync();", "GetAsync", "'Plain'")]
    [InlineData("void Put(System.Collections.Generic.List<Plain> items);", "items", "List<Plain>")]
    public async Task TZMQ0010_types_MemoryPack_cannot_serialize_warn(string method, string span, string message)
    {
        Diagnostic d = Assert.Single(await AnalyzeAsync($$"""
            public class Plain { public int X { get; set; } }
            [TypedZmq.RpcService]
            public interface IContract
            {
                {{method}}
            }
            """));

        AssertDiagnostic(d, "TZMQ0010", DiagnosticSeverity.Warning, span, message);
    }

    [Fact]
    public async Task TZMQ0011_RpcServiceFor_an_RpcService_or_twice()
    {
        ImmutableArray<Diagnostic> diagnostics = await AnalyzeAsync("""
            [assembly: TypedZmq.RpcServiceFor(typeof(IMarked))]
            [assembly: TypedZmq.RpcServiceFor(typeof(IPlain))]
            [assembly: TypedZmq.RpcServiceFor(typeof(IPlain))]
            [TypedZmq.RpcService] public interface IMarked { void Ping(); }
            public interface IPlain { void Ping(); }
            """);

        Assert.Equal(2, diagnostics.Length);
        AssertDiagnostic(diagnostics[0], "TZMQ0011", DiagnosticSeverity.Warning, "TypedZmq.RpcServiceFor(typeof(IMarked))", "marked [RpcService]");
        Assert.Equal(2, diagnostics[1].Location.GetLineSpan().StartLinePosition.Line);
        Assert.Contains("an earlier [RpcServiceFor]", diagnostics[1].GetMessage());
    }

    [Fact]
    public async Task TZMQ0012_two_services_with_one_service_id()
    {
        Diagnostic d = Assert.Single(await AnalyzeAsync("""
            [TypedZmq.RpcService("orders")] public interface IOrders { void Ping(); }
            [TypedZmq.RpcService("orders")] public interface IOrdersV2 { void Ping(); }
            """));

        AssertDiagnostic(d, "TZMQ0012", DiagnosticSeverity.Error, "IOrdersV2", "same service id");
    }

    [Fact]
    public async Task Pragma_warning_disable_suppresses_a_contract_diagnostic()
    {
        Assert.Empty(await AnalyzeAsync("""
            public class Plain { }
            [TypedZmq.RpcService]
            public interface IContract
            {
            #pragma warning disable TZMQ0010 // a formatter for Plain is registered at startup
                void Put(Plain value);
            #pragma warning restore TZMQ0010
            }
            """));
    }

    [Fact]
    public async Task Valid_contracts_report_nothing()
    {
        Assert.Empty(await AnalyzeAsync("""
            using System;
            using System.Collections.Generic;
            using System.Threading;
            using System.Threading.Tasks;
            using MemoryPack;
            using TypedZmq;

            [MemoryPackable] public partial record Person(string Name, int Age);
            public enum Mood { Calm, Busy }
            public struct Point { public int X; public int Y; }
            public interface IBase { int Version(); }

            [assembly: RpcServiceFor(typeof(IImported))]
            public interface IImported { string Echo(string text); }

            [RpcService("people", Id = 42)]
            public interface IContract : IBase
            {
                void Ping();
                [RpcMethod(Id = 9)] int Add(int a, int b);
                string? Echo(string? text);
                Task<Person?> FindAsync(Guid id, CancellationToken cancellationToken = default);
                ValueTask<Dictionary<string, List<Person>>> GroupAsync(Mood mood, Point at, int? limit, DateTimeOffset since);
                (int Count, string Name) Pair(byte[] data, TimeSpan wait, decimal amount);
                static int Helper() => 1;
                int Defaulted() => 42;
            }
            """));
    }

    [Fact]
    public async Task A_contract_with_errors_generates_nothing_so_only_the_real_error_shows()
    {
        const string source = """
            [TypedZmq.RpcService]
            public interface IContract
            {
                int Count { get; }
            }
            """;

        Assert.Empty(GeneratorHarness.Run(source).Result.GeneratedTrees);
        Assert.Single(await AnalyzeAsync(source));
    }

    private static Task<ImmutableArray<Diagnostic>> AnalyzeAsync(string source) => GeneratorHarness.AnalyzeAsync(source);

    private static void AssertDiagnostic(Diagnostic diagnostic, string id, DiagnosticSeverity severity, string spanStartsWith, string message)
    {
        Assert.Equal(id, diagnostic.Id);
        Assert.Equal(severity, diagnostic.Severity);
        string spanText = diagnostic.Location.SourceTree!.GetText().ToString(diagnostic.Location.SourceSpan);
        Assert.StartsWith(spanStartsWith, spanText, StringComparison.Ordinal);
        Assert.Contains(message, diagnostic.GetMessage(), StringComparison.Ordinal);
    }
}
