using System.Collections;
using System.Numerics;

namespace TypedZmq.PayloadFuzzer;

/// <summary>Random, valid values of the contract's types: the seeds that hostile payloads are made from.</summary>
internal sealed class Values(Random random)
{
    private static readonly string[] Alphabets = ["abcxyz", "äöüßé", "日本語テキスト", "🙂🚀", "\0\u0001\u007f"];

    public string Text()
    {
        string alphabet = Alphabets[random.Next(Alphabets.Length)];
        var chars = new char[random.Next(0, 12)];
        for (int i = 0; i < chars.Length; i++)
        {
            chars[i] = alphabet[random.Next(alphabet.Length)];
        }

        // Do not split a surrogate pair in two: MemoryPack's UTF-8 form would not round-trip it.
        return new string(chars).Replace("\ud83d", "").Replace("\ude42", "").Replace("\ude80", "");
    }

    public string? MaybeText() => random.Next(3) == 0 ? null : Text();

    public T[] Many<T>(Func<T> item, int max = 4)
    {
        var items = new T[random.Next(0, max + 1)];
        for (int i = 0; i < items.Length; i++)
        {
            items[i] = item();
        }

        return items;
    }

    public int Int() => random.Next(3) == 0 ? int.MinValue + random.Next(4) : random.Next(-1000, 1000);

    public long Long() => random.NextInt64();

    public Address Address() => new(Text(), random.Next(2) == 0 ? null : random.Next(99999));

    public Person Person() => new(Text(), random.Next(120), Many(Text), random.Next(2) == 0 ? null : Address());

    public Line Line() => new(Text(), random.Next(10), random.Next(100000) / 100m);

    public Order Order() => new(
        Guid.NewGuid(),
        Person(),
        [.. Many(Line)],
        Many(Text).Distinct().ToDictionary(k => k, _ => Text()),
        DateTimeOffset.UnixEpoch.AddSeconds(random.Next()));

    public Wide16 Wide16() => new(Long(), Long());

    public Wide64 Wide64() => new(Wide16(), Wide16(), Wide16(), Wide16());

    public Evolving Evolving() => new() { Name = Text(), Values = [.. Many(Int)], Owner = random.Next(2) == 0 ? null : Person() };

    public Shape Shape() => random.Next(2) == 0 ? new Circle(random.NextDouble(), Text()) : new Polygon(Many(Wide16), Text());

    public Node Node(int depth = 0) => new(
        Int(),
        Text(),
        depth < 3 && random.Next(2) == 0 ? Node(depth + 1) : null,
        depth < 2 ? [.. Many(() => Node(depth + 1), 2)] : []);

    public BigInteger Big() => new(Many(() => (byte)random.Next(256), 12));

    public int[,] Grid()
    {
        var grid = new int[random.Next(0, 3), random.Next(0, 3)];
        for (int i = 0; i < grid.GetLength(0); i++)
        {
            for (int j = 0; j < grid.GetLength(1); j++)
            {
                grid[i, j] = Int();
            }
        }

        return grid;
    }

    public BitArray Bits() => new(Many(() => random.Next(2) == 0, 70));

    public Derived Derived() => new()
    {
        Name = Text(),
        Score = Int(),
        Wide = Text(),
        Packed = [.. Many(() => (byte)random.Next(4), 40), 1], // never null or empty: MemoryPack 1.21.4 cannot read those back
        Secret = Long(),
    };

    public Box<Person> Box() => new() { Value = random.Next(3) == 0 ? null : Person(), More = [.. Many(Person, 2)] };

    public Linked Linked()
    {
        var first = new Linked { Name = Text() };
        var second = new Linked { Name = Text(), Next = random.Next(2) == 0 ? first : null };
        first.Next = random.Next(2) == 0 ? second : null; // sometimes a cycle
        return random.Next(2) == 0 ? first : second;
    }

    public Dictionary<string, List<Line>> Index() => Many(Text).Distinct().ToDictionary(k => k, _ => Many(Line).ToList());
}
