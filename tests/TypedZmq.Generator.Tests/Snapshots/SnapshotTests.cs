using TypedZmq.Generator.Tests.Infrastructure;

namespace TypedZmq.Generator.Tests.Snapshots;

/// <summary>
/// The generated proxy, dispatcher and registration for each supported method shape, compared with the accepted
/// snapshot next to this file. Each contract must also compile cleanly (no warnings) together with its generated code.
/// </summary>
public sealed class SnapshotTests
{
    [Fact]
    public void Void_method() => Verify("""
        namespace Shapes;
        [TypedZmq.RpcService]
        public interface IVoid
        {
            void Ping();
            void Log(string message, int level);
        }
        """);

    [Fact]
    public void Value_method() => Verify("""
        namespace Shapes;
        [TypedZmq.RpcService]
        public interface IValue
        {
            int Add(int a, int b);
            string? Echo(string? text);
        }
        """);

    [Fact]
    public void Task_method() => Verify("""
        using System.Threading.Tasks;
        namespace Shapes;
        [TypedZmq.RpcService]
        public interface ITask
        {
            Task SaveAsync(string key, byte[] value);
        }
        """);

    [Fact]
    public void Task_of_T_method() => Verify("""
        using System.Threading.Tasks;
        namespace Shapes;
        [TypedZmq.RpcService]
        public interface ITaskOfT
        {
            Task<byte[]?> LoadAsync(string key);
        }
        """);

    [Fact]
    public void Stream_method() => Verify("""
        using System.Collections.Generic;
        using System.Threading;
        namespace Shapes;
        [TypedZmq.RpcService]
        public interface IFeed
        {
            IAsyncEnumerable<string> Tail(int from, CancellationToken cancellationToken);

            [TypedZmq.RpcMethod(Idempotent = true)]
            IAsyncEnumerable<long> Numbers();

            System.Threading.Tasks.Task<long> Sum(string label, IAsyncEnumerable<int> values, CancellationToken cancellationToken);

            System.Threading.Tasks.ValueTask Upload(IAsyncEnumerable<byte[]> chunks);
        }
        """);

    [Fact]
    public void ValueTask_method() => Verify("""
        using System.Threading.Tasks;
        namespace Shapes;
        [TypedZmq.RpcService]
        public interface IValueTask
        {
            ValueTask ResetAsync();
        }
        """);

    [Fact]
    public void ValueTask_of_T_method() => Verify("""
        using System.Threading.Tasks;
        namespace Shapes;
        [TypedZmq.RpcService]
        public interface IValueTaskOfT
        {
            ValueTask<long> CountAsync();
        }
        """);

    [Fact]
    public void Trailing_cancellation_token_is_not_sent() => Verify("""
        using System.Threading;
        using System.Threading.Tasks;
        namespace Shapes;
        [TypedZmq.RpcService]
        public interface ICancellable
        {
            Task<string> WaitAsync(int milliseconds, CancellationToken cancellationToken = default);
            string Wait(int milliseconds, CancellationToken cancellationToken);
        }
        """);

    [Fact]
    public void User_records_and_collections() => Verify("""
        using System.Collections.Generic;
        using System.Threading.Tasks;
        using MemoryPack;
        namespace Shapes.People;
        [MemoryPackable] public partial record Person(string Name, int Age);
        public enum Mood { Calm, Busy }
        [TypedZmq.RpcService]
        public interface IPeople
        {
            Task<Person?> FindAsync(int id);
            List<Person> All(Dictionary<string, int> filter, Mood mood, int? limit);
        }
        """);

    [Fact]
    public void Records_reached_through_members_are_registered_for_NativeAOT() => Verify("""
        using System.Collections.Generic;
        using System.Threading.Tasks;
        using MemoryPack;
        namespace Shop;
        [MemoryPackable] public partial record Line(string Sku, Money Price);
        [MemoryPackable] public partial record Money(decimal Amount, string Currency);
        [MemoryPackable] public partial record Order(int Id, List<Line> Lines);
        [MemoryPackable] public partial record Receipt(int OrderId);
        public sealed class NotPackable { }
        [TypedZmq.RpcService]
        public interface IOrders
        {
            Task<Receipt> PlaceAsync(Order order);
            Order?[] Recent(int count);
        }
        """);

    [Fact]
    public void Payload_schemas_follow_MemoryPack_layouts() => Verify("""
        using System;
        using System.Collections.Generic;
        using MemoryPack;
        namespace Layouts;
        [MemoryPackable] public partial class Base { public string Name { get; set; } = ""; [MemoryPackIgnore] public int Ignored { get; set; } }
        [MemoryPackable] public partial class Derived : Base
        {
            [MemoryPackInclude] private long _secret = 1;
            [MemoryPackOrder(0)] public int First { get; set; }
            [Utf16StringFormatter] public string Wide { get; set; } = "";
            public Custom? Opaque { get; set; }
            public int Computed => Name.Length + (int)_secret;
        }
        [MemoryPackable(GenerateType.NoGenerate)] public partial class Custom { }
        [MemoryPackable(GenerateType.VersionTolerant)] public partial class Evolving
        {
            [MemoryPackOrder(0)] public string Name { get; set; } = "";
            [MemoryPackOrder(3)] public Evolving? Next { get; set; }
        }
        [MemoryPackable] [MemoryPackUnion(0, typeof(Circle))] [MemoryPackUnion(300, typeof(Square))] public partial interface IShape { }
        [MemoryPackable] public partial record Circle(double Radius) : IShape;
        [MemoryPackable] public partial record Square(string Label) : IShape;
        public struct Point { public int X; public int Y; }
        [TypedZmq.RpcService]
        public interface ILayouts
        {
            void Objects(Derived derived, Evolving evolving, IShape shape);
            void Collections(Point[] points, List<Point?> maybe, Dictionary<string, Point> named, KeyValuePair<int, long> pair, int[,] grid);
            (string, int) Tuples(Tuple<int, string> tuple, Lazy<string> lazy, Version version, Uri uri);
        }
        """);

    [Fact]
    public void Obsolete_contract_members_build_without_warnings() => Verify("""
        using System;
        namespace Legacy;
        [Obsolete("use Money")] public enum Cents { Zero }
        [TypedZmq.RpcService]
        public interface IBilling
        {
            [Obsolete("use Charge")] int OldCharge(int cents);
            [Obsolete] void Forget();
            int Charge(decimal amount);
            [Obsolete] Cents Round(Cents value);
        }
        """);

    [Fact]
    public void User_types_and_parameters_named_like_generated_ones_do_not_collide() => Verify("""
        namespace Shop;
        public sealed class Proxy { }
        public sealed class Dispatcher { }
        public sealed class Methods { }
        public sealed class Schemas { }
        public sealed class Registration { }
        public sealed class GreeterProxy { }
        public sealed class GreeterDispatcher { }
        [TypedZmq.RpcService]
        public interface IGreeter
        {
            string SayHello(string call, int Methods, string _service);
            int All(int All);
            int All(string Proxy);
        }
        """);

    [Fact]
    public void Before_CSharp_11_generated_types_are_internal_in_a_namespace_of_their_own()
    {
        var (result, output, diagnostics) = GeneratorHarness.Run(Microsoft.CodeAnalysis.CSharp.LanguageVersion.CSharp10, """
            namespace Shop;
            public sealed class Proxy { }
            [TypedZmq.RpcService]
            public interface IGreeter
            {
                string SayHello(string name);
            }
            """);

        Assert.Empty(diagnostics);
        Assert.Empty(GeneratorHarness.CompilationDiagnostics(output));
        Snapshot.VerifyGenerated(result);
    }

    [Fact]
    public void Keyword_parameter_names_and_overloads() => Verify("""
        namespace Shapes;
        [TypedZmq.RpcService]
        public interface IKeywords
        {
            string Describe(string @class, int @event);
            string Describe(string @class);
        }
        """);

    [Fact]
    public void Inherited_methods_and_explicit_service_name() => Verify("""
        namespace Shapes;
        public interface IBase
        {
            int Version();
        }
        [TypedZmq.RpcService("inventory")]
        public interface IInventory : IBase
        {
            int Count(string sku);
        }
        """);

    [Fact]
    public void Global_namespace_and_nested_interface() => Verify("""
        [TypedZmq.RpcService]
        public interface IGlobal
        {
            void Ping();
        }
        public static class Outer
        {
            [TypedZmq.RpcService]
            public interface INested
            {
                void Ping();
            }
        }
        """);

    [Fact]
    public void Explicit_service_and_method_ids() => Verify("""
        using TypedZmq;
        namespace Shapes;
        [RpcService("billing", Id = 0xB111)]
        public interface IBilling
        {
            [RpcMethod(Id = 1)] decimal Total(string account);
            decimal Total(string account, int year);
        }
        """);

    [Fact]
    public void Idempotent_method_is_marked_for_retries() => Verify("""
        using System.Threading.Tasks;
        using TypedZmq;
        namespace Shapes;
        [RpcService]
        public interface IStock
        {
            [RpcMethod(Idempotent = true)] Task<int> CountAsync(string sku);
            Task ReserveAsync(string sku, int quantity);
        }
        """);

    [Fact]
    public void Plain_interface_named_by_RpcServiceFor() => Verify("""
        [assembly: TypedZmq.RpcServiceFor(typeof(Plain.ICalculator), Name = "calc")]
        namespace Plain
        {
            public interface ICalculator
            {
                long Multiply(int a, int b);
            }
        }
        """);

    [Fact]
    public void Parameter_named_like_a_generated_member() => Verify("""
        namespace Shapes;
        [TypedZmq.RpcService]
        public interface IShadowing
        {
            string Call(string _channel, int call, int __tzmqRequestX);
        }
        """);

    private static void Verify(string contract, [System.Runtime.CompilerServices.CallerFilePath] string file = "", [System.Runtime.CompilerServices.CallerMemberName] string method = "")
    {
        var (result, output, diagnostics) = GeneratorHarness.Run(contract);

        Assert.Empty(diagnostics);
        Assert.Empty(GeneratorHarness.CompilationDiagnostics(output));
        Snapshot.VerifyGenerated(result, file, method);
    }
}
