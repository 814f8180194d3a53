using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using TypedZmq.Protocol;

namespace TypedZmq.Internal;

/// <summary>
/// The wire layout of one MemoryPack-encoded value, as far as TypedZmq must know it to check a payload before MemoryPack
/// reads it. Generated code builds one per parameter and result type of a contract, from the same rules MemoryPack's own
/// generator follows. Every payload from the network is walked against its schemas first, so that a hostile length
/// prefix is refused with an error instead of reaching a MemoryPack read that trusts it (see docs/security.md).
/// Not for direct use: part of the contract between generated code and the runtime.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public abstract class PayloadSchema
{
    private static readonly PayloadSchema s_string = new StringSchema();
    private static readonly PayloadSchema s_bitArray = new BitArraySchema();

    private protected PayloadSchema(string description, int minSize, int fixedSize = -1)
    {
        Description = description;
        MinSize = Math.Max(1, minSize);
        FixedSize = fixedSize;
    }

    /// <summary>A string (also the layout of <c>Uri</c>, <c>CultureInfo</c>, <c>TimeZoneInfo</c> and <c>Type</c>).</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1720", Justification = "Named after the MemoryPack layout it describes.")]
    public static PayloadSchema String => s_string;

    /// <summary>A <c>System.Collections.BitArray</c>: its bit count must fit the words that follow.</summary>
    public static PayloadSchema BitArray => s_bitArray;

    /// <summary>What a value is, for error messages: a type name or a kind of value.</summary>
    internal string Description { get; }

    /// <summary>The fewest bytes a value of this schema takes on the wire (a null counts), at least 1.</summary>
    internal int MinSize { get; }

    /// <summary>The exact size of every value, for values copied as raw memory; otherwise -1.</summary>
    internal int FixedSize { get; }

    /// <summary>
    /// A value MemoryPack copies as raw memory: primitives, enums, structs without references, and <c>Nullable</c> of
    /// those (which the C# <c>unmanaged</c> constraint would not admit, hence the check at run time).
    /// </summary>
    /// <typeparam name="T">A type without references.</typeparam>
    /// <returns>A schema of <c>Unsafe.SizeOf&lt;T&gt;()</c> bytes.</returns>
    /// <exception cref="ArgumentException"><typeparamref name="T"/> is or holds a reference.</exception>
    public static PayloadSchema Fixed<T>() =>
        RuntimeHelpers.IsReferenceOrContainsReferences<T>()
            ? throw new ArgumentException($"{typeof(T)} holds references; MemoryPack does not copy it as raw memory.", nameof(T))
            : FixedSchema.Of(Unsafe.SizeOf<T>());

    /// <summary>An int32 count (-1 for null) and that many elements: arrays, lists, sets, dictionaries (of pairs).</summary>
    /// <param name="element">The element schema.</param>
    /// <returns>The collection schema.</returns>
    public static PayloadSchema Sequence(PayloadSchema element)
    {
        ArgumentNullException.ThrowIfNull(element);
        return new SequenceSchema(element);
    }

    /// <summary>Values back to back with no header: a managed <c>ValueTuple</c> or <c>KeyValuePair</c>.</summary>
    /// <param name="items">The item schemas in order.</param>
    /// <returns>The tuple schema.</returns>
    public static PayloadSchema Tuple(params PayloadSchema[] items)
    {
        ArgumentNullException.ThrowIfNull(items);
        return new TupleSchema(items);
    }

    /// <summary>
    /// A header byte holding the item count (255 for null), then the items: <c>Tuple</c>, <c>Lazy</c>,
    /// <c>Version</c>, <c>IGrouping</c>, and <c>Nullable</c> of a managed struct.
    /// </summary>
    /// <param name="items">The item schemas in order.</param>
    /// <returns>The record schema.</returns>
    public static PayloadSchema Record(params PayloadSchema[] items)
    {
        ArgumentNullException.ThrowIfNull(items);
        return new RecordSchema(items);
    }

    /// <summary>An array of rank 2 to 4.</summary>
    /// <param name="rank">The rank.</param>
    /// <param name="element">The element schema.</param>
    /// <returns>The array schema.</returns>
    public static PayloadSchema MultiDimensionalArray(int rank, PayloadSchema element)
    {
        ArgumentNullException.ThrowIfNull(element);
        if (rank is < 2 or > 4)
        {
            throw new ArgumentOutOfRangeException(nameof(rank), rank, "MemoryPack supports ranks 2 to 4.");
        }

        return new MultiDimensionalArraySchema(rank, element);
    }

    /// <summary>
    /// A value whose layout TypedZmq cannot see (a custom formatter, a hand-written <c>IMemoryPackable</c>, a type
    /// registered at run time). The rest of the payload is checked conservatively instead: see docs/security.md.
    /// </summary>
    /// <param name="typeName">The type, for error messages.</param>
    /// <returns>The schema.</returns>
    public static PayloadSchema Unchecked(string typeName) => new UncheckedSchema(typeName);

    /// <summary>A <c>[MemoryPackable]</c> type with the default layout; call <see cref="PayloadObjectSchema.Define"/> next.</summary>
    /// <param name="typeName">The type, for error messages.</param>
    /// <returns>The schema, to be defined.</returns>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1720", Justification = "Named after MemoryPack's GenerateType.Object layout.")]
    public static PayloadObjectSchema Object(string typeName) => new(typeName, PayloadObjectSchema.Layout.Object);

    /// <summary>A <c>[MemoryPackable(GenerateType.VersionTolerant)]</c> type; call <see cref="PayloadObjectSchema.Define"/> next.</summary>
    /// <param name="typeName">The type, for error messages.</param>
    /// <returns>The schema, to be defined.</returns>
    public static PayloadObjectSchema VersionTolerant(string typeName) => new(typeName, PayloadObjectSchema.Layout.VersionTolerant);

    /// <summary>A <c>[MemoryPackable(GenerateType.CircularReference)]</c> type; call <see cref="PayloadObjectSchema.Define"/> next.</summary>
    /// <param name="typeName">The type, for error messages.</param>
    /// <returns>The schema, to be defined.</returns>
    public static PayloadObjectSchema CircularReference(string typeName) => new(typeName, PayloadObjectSchema.Layout.CircularReference);

    /// <summary>A <c>[MemoryPackUnion]</c> type; call <see cref="PayloadUnionSchema.Define"/> next.</summary>
    /// <param name="typeName">The type, for error messages.</param>
    /// <returns>The schema, to be defined.</returns>
    public static PayloadUnionSchema Union(string typeName) => new(typeName);

    /// <summary>Walks one value; throws <see cref="PayloadException"/> when it is not what MemoryPack can read safely.</summary>
    internal abstract void Check(ref PayloadReader reader, int depth);

    private sealed class FixedSchema : PayloadSchema
    {
        private static readonly FixedSchema?[] s_small = new FixedSchema?[33];

        private FixedSchema(int size)
            : base(size + "-byte value", size, size)
        {
        }

        public static FixedSchema Of(int size)
        {
            if (size >= s_small.Length)
            {
                return new FixedSchema(size);
            }

            return s_small[size] ??= new FixedSchema(size);
        }

        internal override void Check(ref PayloadReader reader, int depth) => reader.Skip(FixedSize, Description);
    }

    private sealed class StringSchema : PayloadSchema
    {
        public StringSchema()
            : base("string", 4)
        {
        }

        internal override void Check(ref PayloadReader reader, int depth)
        {
            int start = reader.Position;
            int header = reader.ReadInt32("string length");
            if (header is -1 or 0)
            {
                return;
            }

            if (header > 0)
            {
                // UTF-16: that many chars.
                reader.Skip(2L * header, "string", start);
                return;
            }

            // UTF-8: the complement of the byte count, then an int32 char count, then the bytes. MemoryPack 1.21.4 adds 4
            // to the byte count without an overflow check, so a prefix near int.MinValue reads far past the message.
            long utf8Bytes = ~header;
            reader.Skip(4 + utf8Bytes, "UTF-8 string", start);
        }
    }

    private sealed class SequenceSchema : PayloadSchema
    {
        private readonly PayloadSchema _element;

        public SequenceSchema(PayloadSchema element)
            : base("collection", 4)
        {
            _element = element;
        }

        internal override void Check(ref PayloadReader reader, int depth)
        {
            int start = reader.Position;
            int count = reader.ReadInt32("collection length");
            if (count == -1)
            {
                return;
            }

            // MemoryPack sizes its allocation from the count before it reads an element, so bound the count by what the
            // elements need at least; and an unmanaged element count times its size must not wrap around.
            reader.EnsureCount(count, _element.MinSize, "collection", start);
            if (_element.FixedSize >= 0)
            {
                reader.Skip((long)count * _element.FixedSize, "collection", start);
                return;
            }

            for (int i = 0; i < count && !reader.Stopped; i++)
            {
                _element.Check(ref reader, depth);
            }
        }
    }

    private sealed class TupleSchema : PayloadSchema
    {
        private readonly PayloadSchema[] _items;

        public TupleSchema(PayloadSchema[] items)
            : base("tuple", SumMinSize(items))
        {
            _items = (PayloadSchema[])items.Clone();
        }

        internal override void Check(ref PayloadReader reader, int depth)
        {
            foreach (PayloadSchema item in _items)
            {
                item.Check(ref reader, depth);
                if (reader.Stopped)
                {
                    return;
                }
            }
        }

        private static int SumMinSize(PayloadSchema[] items)
        {
            long sum = 0;
            foreach (PayloadSchema item in items)
            {
                sum += item.MinSize;
            }

            return (int)Math.Min(sum, int.MaxValue);
        }
    }

    private sealed class RecordSchema : PayloadSchema
    {
        private readonly PayloadSchema[] _items;

        public RecordSchema(PayloadSchema[] items)
            : base("value", 1)
        {
            _items = (PayloadSchema[])items.Clone();
        }

        internal override void Check(ref PayloadReader reader, int depth)
        {
            int start = reader.Position;
            byte count = reader.ReadByte("header");
            if (count == PayloadReader.NullObject)
            {
                return;
            }

            if (count != _items.Length)
            {
                throw PayloadReader.Fail(start, $"the header says {count} items where {_items.Length} belong");
            }

            foreach (PayloadSchema item in _items)
            {
                item.Check(ref reader, depth);
                if (reader.Stopped)
                {
                    return;
                }
            }
        }
    }

    private sealed class MultiDimensionalArraySchema : PayloadSchema
    {
        private readonly int _rank;
        private readonly PayloadSchema _element;

        public MultiDimensionalArraySchema(int rank, PayloadSchema element)
            : base("array of rank " + rank, 1)
        {
            _rank = rank;
            _element = element;
        }

        internal override void Check(ref PayloadReader reader, int depth)
        {
            int start = reader.Position;
            byte header = reader.ReadByte("array header");
            if (header == PayloadReader.NullObject)
            {
                return;
            }

            if (header != _rank + 1)
            {
                throw PayloadReader.Fail(start, $"the header says rank {header - 1} where rank {_rank} belongs");
            }

            // MemoryPack allocates the whole array from the dimensions before reading any element.
            long elements = 1;
            for (int i = 0; i < _rank; i++)
            {
                int dimension = reader.ReadInt32("array dimension");
                if (dimension < 0)
                {
                    throw PayloadReader.Fail(start, $"dimension {i} is negative ({dimension})");
                }

                elements *= dimension;
                if (elements > reader.Remaining)
                {
                    throw PayloadReader.Fail(start, "the dimensions ask for more elements than the message holds");
                }
            }

            int length = reader.ReadInt32("array length");
            if (length != elements)
            {
                throw PayloadReader.Fail(start, $"the element count {length} does not match the dimensions ({elements})");
            }

            reader.EnsureCount(length, _element.MinSize, Description, start);
            if (_element.FixedSize >= 0)
            {
                reader.Skip(elements * _element.FixedSize, Description, start);
                return;
            }

            for (int i = 0; i < length && !reader.Stopped; i++)
            {
                _element.Check(ref reader, depth);
            }
        }
    }

    private sealed class BitArraySchema : PayloadSchema
    {
        public BitArraySchema()
            : base("BitArray", 1)
        {
        }

        internal override void Check(ref PayloadReader reader, int depth)
        {
            int start = reader.Position;
            byte header = reader.ReadByte("BitArray header");
            if (header == PayloadReader.NullObject)
            {
                return;
            }

            if (header != 2)
            {
                throw PayloadReader.Fail(start, $"the BitArray header says {header} members where 2 belong");
            }

            // MemoryPack takes the bit count and the words from the wire independently; BitArray assumes they agree.
            int bits = reader.ReadInt32("BitArray length");
            int words = reader.ReadInt32("BitArray words");
            if (bits < 0 || words < 0 || words < ((long)bits + 31) / 32)
            {
                throw PayloadReader.Fail(start, $"the BitArray claims {bits} bits in {words} words");
            }

            reader.Skip(4L * words, Description, start);
        }
    }

    private sealed class UncheckedSchema : PayloadSchema
    {
        public UncheckedSchema(string typeName)
            : base(typeName, 0)
        {
        }

        internal override void Check(ref PayloadReader reader, int depth) => reader.StopWithConservativeScan(Description);
    }
}
