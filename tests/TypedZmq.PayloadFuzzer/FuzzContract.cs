using System.Collections;
using System.Numerics;
using MemoryPack;

namespace TypedZmq.PayloadFuzzer;

/// <summary>One method per argument shape the generator supports; the fuzzer sends each one hostile payloads.</summary>
[RpcService]
public interface IFuzzTarget
{
    int Strings(string text, string? maybe);

    int Arrays(int[] numbers, string[] words, long[]? longs);

    int Lists(List<string> words, List<long> numbers, IReadOnlyList<Line> lines);

    int Dictionaries(Dictionary<string, int> counts, Dictionary<int, Person> people, Dictionary<Guid, string[]> tags);

    int Nullables(int? number, Guid? id, Person? person, (string, int)? pair);

    int Records(Person person, Order order);

    int Wide(Wide16[] blocks, Wide64[] big, List<Wide64> bigList);

    int Tuples((int, string) pair, Tuple<string, int> tuple, KeyValuePair<string, long> entry);

    int Special(BigInteger big, int[,] grid, BitArray bits, Version version, Uri uri);

    int Tolerant(Evolving evolving, Shape shape);

    int Tree(Node node);

    string EchoString(string text);

    Person EchoPerson(Person person);

    Order EchoOrder(Order order);

    Dictionary<string, List<Line>> EchoIndex(Dictionary<string, List<Line>> index);

    int Layouts(Derived derived, Box<Person> box, Linked linked);
}

[MemoryPackable]
public sealed partial record Person(string Name, int Age, string[] Tags, Address? Home);

[MemoryPackable]
public sealed partial record Address(string City, int? Zip);

[MemoryPackable]
public sealed partial record Line(string Sku, int Quantity, decimal Price);

[MemoryPackable]
public sealed partial record Order(Guid Id, Person Customer, List<Line> Lines, Dictionary<string, string> Notes, DateTimeOffset Placed);

[MemoryPackable(GenerateType.VersionTolerant)]
public sealed partial class Evolving
{
    [MemoryPackOrder(0)]
    public string Name { get; set; } = "";

    [MemoryPackOrder(2)]
    public List<int> Values { get; set; } = [];

    [MemoryPackOrder(3)]
    public Person? Owner { get; set; }
}

[MemoryPackable]
[MemoryPackUnion(0, typeof(Circle))]
[MemoryPackUnion(1, typeof(Polygon))]
public partial interface Shape
{
}

[MemoryPackable]
public sealed partial record Circle(double Radius, string Label) : Shape;

[MemoryPackable]
public sealed partial record Polygon(Wide16[] Points, string Label) : Shape;

[MemoryPackable]
public sealed partial record Node(int Value, string Label, Node? Next, List<Node> Children);

/// <summary>MemoryPack's member rules: base members first, ignore and include, computed get-only properties.</summary>
[MemoryPackable]
public partial class Base
{
    public string Name { get; set; } = "";

    [MemoryPackIgnore]
    public string Ignored { get; set; } = "";

    public virtual int Score { get; set; }
}

[MemoryPackable]
public partial class Derived : Base
{
    [MemoryPackInclude]
    private long _secret;

    public override int Score { get; set; }

    [Utf16StringFormatter]
    public string Wide { get; set; } = "";

    [BrotliFormatter]
    public byte[]? Packed { get; set; }

    public int Computed => Name.Length;

    public long Secret
    {
        get => _secret;
        set => _secret = value;
    }
}

/// <summary>A generic [MemoryPackable]: its member layout comes from the type argument.</summary>
[MemoryPackable]
public partial class Box<T>
{
    public T? Value { get; set; }

    public List<T> More { get; set; } = [];
}

/// <summary>Shared and circular references by id.</summary>
[MemoryPackable(GenerateType.CircularReference)]
public partial class Linked
{
    [MemoryPackOrder(0)]
    public string Name { get; set; } = "";

    [MemoryPackOrder(2)]
    public Linked? Next { get; set; }
}

/// <summary>16 bytes, copied as raw memory.</summary>
public readonly record struct Wide16(long A, long B);

/// <summary>64 bytes: an array of these is where MemoryPack's length times size can wrap around.</summary>
public readonly record struct Wide64(Wide16 A, Wide16 B, Wide16 C, Wide16 D);

/// <summary>Answers every call with a fixed value: the fuzzer only cares what decoding does.</summary>
public sealed class FuzzTarget : IFuzzTarget
{
    public int Strings(string text, string? maybe) => 1;

    public int Arrays(int[] numbers, string[] words, long[]? longs) => 1;

    public int Lists(List<string> words, List<long> numbers, IReadOnlyList<Line> lines) => 1;

    public int Dictionaries(Dictionary<string, int> counts, Dictionary<int, Person> people, Dictionary<Guid, string[]> tags) => 1;

    public int Nullables(int? number, Guid? id, Person? person, (string, int)? pair) => 1;

    public int Records(Person person, Order order) => 1;

    public int Wide(Wide16[] blocks, Wide64[] big, List<Wide64> bigList) => 1;

    public int Tuples((int, string) pair, Tuple<string, int> tuple, KeyValuePair<string, long> entry) => 1;

    public int Special(BigInteger big, int[,] grid, BitArray bits, Version version, Uri uri) => 1;

    public int Tolerant(Evolving evolving, Shape shape) => 1;

    public int Tree(Node node) => 1;

    public string EchoString(string text) => text;

    public Person EchoPerson(Person person) => person;

    public Order EchoOrder(Order order) => order;

    public Dictionary<string, List<Line>> EchoIndex(Dictionary<string, List<Line>> index) => index;

    public int Layouts(Derived derived, Box<Person> box, Linked linked) => 1;
}
