using System;
using System.ComponentModel;
using TypedZmq.Protocol;

namespace TypedZmq.Internal;

/// <summary>
/// The schema of a <c>[MemoryPackable]</c> class or struct (one that holds references): a member-count header, then its
/// members in MemoryPack's order. Created empty so that types can refer to each other (or themselves), then defined.
/// Not for direct use: part of the contract between generated code and the runtime.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class PayloadObjectSchema : PayloadSchema
{
    // A version-tolerant header is 0..249 members; 250 marks a back-reference in the circular-reference layout.
    private const byte ReferenceId = 250;

    private readonly Layout _layout;
    private PayloadSchema?[] _members = [];

    internal PayloadObjectSchema(string typeName, Layout layout)
        : base(typeName, 1)
    {
        _layout = layout;
    }

    internal enum Layout
    {
        Object,
        VersionTolerant,
        CircularReference,
    }

    /// <summary>Sets the members, in MemoryPack's order.</summary>
    /// <param name="members">
    /// The member schemas; for the version-tolerant and circular-reference layouts, <see langword="null"/> marks an
    /// unused order number (a gap MemoryPack skips by its byte count).
    /// </param>
    public void Define(params PayloadSchema?[] members)
    {
        ArgumentNullException.ThrowIfNull(members);
        if (_layout == Layout.Object && Array.IndexOf(members, null) >= 0)
        {
            throw new ArgumentException("Only version-tolerant layouts have gaps.", nameof(members));
        }

        _members = (PayloadSchema?[])members.Clone();
    }

    internal override void Check(ref PayloadReader reader, int depth)
    {
        int start = reader.Position;
        byte count = reader.ReadByte(Description + " header");
        if (count == PayloadReader.NullObject)
        {
            return;
        }

        PayloadReader.Enter(ref depth, Description, start);
        if (_layout == Layout.Object)
        {
            // A count below the member count is an older writer: MemoryPack reads that many and leaves the rest default.
            if (count > _members.Length)
            {
                throw PayloadReader.Fail(start, $"{Description} has {_members.Length} members but the header says {count}");
            }

            for (int i = 0; i < count && !reader.Stopped; i++)
            {
                _members[i]!.Check(ref reader, depth);
            }

            return;
        }

        if (_layout == Layout.CircularReference && count == ReferenceId)
        {
            reader.ReadVarUInt32("reference id"); // MemoryPack refuses an id it has not seen
            return;
        }

        if (count >= ReferenceId)
        {
            throw PayloadReader.Fail(start, $"{Description} header {count} is reserved");
        }

        // Each member's byte count comes first. MemoryPack moves its read position by the counts of members it skips
        // (gaps, and members of a newer version), and a negative count would move it back before the message.
        Span<int> sizes = stackalloc int[count];
        for (int i = 0; i < count; i++)
        {
            sizes[i] = reader.ReadVarInt32("member size");
        }

        if (_layout == Layout.CircularReference)
        {
            reader.ReadVarUInt32("object id");
        }

        for (int i = 0; i < count && !reader.Stopped; i++)
        {
            if (sizes[i] == 0)
            {
                continue; // MemoryPack reads nothing for it and leaves the member default
            }

            if (i < _members.Length && _members[i] is { } member)
            {
                member.Check(ref reader, depth);
            }
            else if (sizes[i] < 0)
            {
                throw PayloadReader.Fail(start, $"{Description}: member {i} has a negative size ({sizes[i]})");
            }
            else
            {
                reader.Skip(sizes[i], Description + " member", start);
            }
        }
    }
}
