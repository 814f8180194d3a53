using System;
using System.ComponentModel;
using TypedZmq.Protocol;

namespace TypedZmq.Internal;

/// <summary>
/// The schema of a <c>[MemoryPackUnion]</c> type: a tag (one byte, or 250 and a ushort; 251 to 255 for null), then the
/// value of the type registered for that tag. Not for direct use: part of the contract between generated code and the runtime.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class PayloadUnionSchema : PayloadSchema
{
    private const byte WideTag = 250;

    private ushort[] _tags = [];
    private PayloadSchema[] _cases = [];

    internal PayloadUnionSchema(string typeName)
        : base(typeName, 1)
    {
    }

    /// <summary>Sets the cases.</summary>
    /// <param name="tags">The union tags.</param>
    /// <param name="cases">The schema of the type registered for each tag, in the same order.</param>
    public void Define(ushort[] tags, PayloadSchema[] cases)
    {
        ArgumentNullException.ThrowIfNull(tags);
        ArgumentNullException.ThrowIfNull(cases);
        if (tags.Length != cases.Length)
        {
            throw new ArgumentException("One schema per tag.", nameof(cases));
        }

        _tags = (ushort[])tags.Clone();
        _cases = (PayloadSchema[])cases.Clone();
    }

    internal override void Check(ref PayloadReader reader, int depth)
    {
        int start = reader.Position;
        byte first = reader.ReadByte(Description + " tag");
        ushort tag;
        if (first < WideTag)
        {
            tag = first;
        }
        else if (first == WideTag)
        {
            tag = reader.ReadUInt16(Description + " tag");
        }
        else
        {
            return; // null
        }

        int index = Array.IndexOf(_tags, tag);
        if (index < 0)
        {
            throw PayloadReader.Fail(start, $"{Description} has no case with tag {tag}");
        }

        PayloadReader.Enter(ref depth, Description, start);
        _cases[index].Check(ref reader, depth);
    }
}
