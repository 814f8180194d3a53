using TypedZmq.Internal;
using TypedZmq.Protocol;
using static TypedZmq.Tests.Infrastructure.WireFormat;

namespace TypedZmq.Tests;

/// <summary>
/// The walk every payload from the network passes before MemoryPack reads it (docs/security.md): it accepts what a
/// MemoryPack writer produces and refuses each length, count, size, tag and depth that MemoryPack 1.21.4 would trust.
/// </summary>
public sealed class PayloadSchemaTests
{
    private static readonly PayloadSchema Text = PayloadSchema.String;

    [Theory]
    [InlineData(int.MinValue)]
    [InlineData(int.MinValue + 1)]
    [InlineData(int.MinValue + 2)]
    [InlineData(int.MinValue + 3)]
    public void A_UTF8_string_prefix_whose_byte_count_overflows_is_refused(int prefix)
    {
        string? error = Check([.. Int32s(prefix, 5), .. "Hello"u8], Text);

        Assert.NotNull(error);
        Assert.Contains("UTF-8 string claims", error);
    }

    [Fact]
    public void Strings_a_MemoryPack_writer_produces_are_accepted_in_both_forms()
    {
        Assert.Null(Check(MemoryPack.MemoryPackSerializer.Serialize("héllo", MemoryPack.MemoryPackSerializerOptions.Utf8), Text));
        Assert.Null(Check(MemoryPack.MemoryPackSerializer.Serialize("héllo", MemoryPack.MemoryPackSerializerOptions.Utf16), Text));
        Assert.Null(Check(Int32s(-1), Text)); // null
        Assert.Null(Check(Int32s(0), Text)); // empty
    }

    [Theory]
    [InlineData(3)] // UTF-16: 3 chars need 6 bytes, 5 remain
    [InlineData(~6)] // UTF-8: 6 bytes, 5 remain
    [InlineData(int.MaxValue)]
    public void A_string_longer_than_the_rest_of_the_payload_is_refused(int prefix)
    {
        Assert.NotNull(Check([.. Int32s(prefix), .. "Hello"u8], Text));
    }

    [Fact]
    public void A_collection_count_that_is_negative_or_more_than_its_elements_could_fill_is_refused()
    {
        PayloadSchema strings = PayloadSchema.Sequence(Text);

        Assert.Contains("negative", Check(Int32s(-2), strings));
        Assert.Contains("claims 3 elements of at least 4 bytes", Check(Int32s(3, 0, 0), strings)); // 8 bytes hold 2 strings at most
        Assert.Null(Check(Int32s(2, 0, 0), strings));
        Assert.Null(Check(Int32s(-1), strings)); // null
    }

    [Fact]
    public void An_unmanaged_element_count_whose_byte_count_wraps_a_32_bit_int_is_refused()
    {
        // MemoryPack checks count <= remaining bytes, then multiplies by the element size in 32 bits: 2^25 elements of
        // 64 bytes is 2^31 bytes, a negative size that passes its bounds check. The walk multiplies in 64 bits.
        var payload = new byte[4 + (1 << 25)];
        BitConverter.TryWriteBytes(payload, 1 << 25);

        string? error = Check(payload, PayloadSchema.Sequence(PayloadSchema.Fixed<System.Numerics.Matrix4x4>()));

        Assert.Contains("claims 33554432 elements of at least 64 bytes", error);
    }

    [Fact]
    public void A_version_tolerant_member_size_that_is_negative_is_refused()
    {
        PayloadObjectSchema evolving = PayloadSchema.VersionTolerant("Evolving");
        evolving.Define(PayloadSchema.Fixed<int>());

        // Header: 2 members, sizes 4 and -4 (a member this version does not know; MemoryPack would move back 4 bytes).
        Assert.Contains("negative size", Check([2, 4, unchecked((byte)-4), .. Int32s(7)], evolving));
        Assert.Null(Check([2, 4, 4, .. Int32s(7), .. Int32s(8)], evolving)); // a newer member of 4 bytes is skipped
        Assert.Contains("reserved", Check([251, .. Int32s(7)], evolving));
    }

    [Fact]
    public void An_object_header_with_more_members_than_the_type_has_is_refused_and_fewer_are_accepted()
    {
        PayloadObjectSchema person = PayloadSchema.Object("Person");
        person.Define(Text, PayloadSchema.Fixed<int>());

        Assert.Contains("has 2 members but the header says 3", Check([3, .. Int32s(0, 1, 2)], person));
        Assert.Null(Check([1, .. Int32s(0)], person)); // an older writer: the rest stay default
        Assert.Null(Check([255], person)); // null
    }

    [Fact]
    public void A_union_tag_without_a_case_is_refused()
    {
        PayloadUnionSchema shape = PayloadSchema.Union("Shape");
        shape.Define([0, 300], [PayloadSchema.Fixed<double>(), Text]);

        Assert.Null(Check([0, .. new byte[8]], shape));
        Assert.Null(Check([250, 44, 1, .. Int32s(0)], shape)); // wide tag 300
        Assert.Contains("no case with tag 7", Check([7, .. new byte[8]], shape));
        Assert.Null(Check([255], shape)); // null
    }

    [Fact]
    public void Objects_nested_deeper_than_the_limit_are_refused_before_MemoryPack_recurses()
    {
        PayloadObjectSchema node = PayloadSchema.Object("Node");
        node.Define(PayloadSchema.Fixed<int>(), node);

        Assert.Null(Check(Chain(PayloadReader.MaxDepth), node));
        Assert.Contains("nested more than 128 levels", Check(Chain(PayloadReader.MaxDepth + 1), node));
        Assert.NotNull(Check(Chain(100_000), node)); // would overflow MemoryPack's stack and end the process

        static byte[] Chain(int depth)
        {
            var bytes = new List<byte>();
            for (int i = 0; i < depth; i++)
            {
                bytes.AddRange([2, 0, 0, 0, 0]);
            }

            bytes.Add(255);
            return [.. bytes];
        }
    }

    [Fact]
    public void A_multidimensional_array_whose_dimensions_disagree_with_its_data_is_refused()
    {
        PayloadSchema grid = PayloadSchema.MultiDimensionalArray(2, PayloadSchema.Fixed<int>());

        Assert.Null(Check([3, .. Int32s(2, 1, 2, 10, 20)], grid));
        Assert.Contains("does not match", Check([3, .. Int32s(2, 1, 3, 10, 20)], grid));
        Assert.Contains("negative", Check([3, .. Int32s(-1, 1, 0)], grid));
        Assert.Contains("more elements", Check([3, .. Int32s(16384, 16384, 0)], grid)); // 2^28 elements from 13 bytes
    }

    [Fact]
    public void A_BitArray_whose_bit_count_does_not_fit_its_words_is_refused()
    {
        Assert.Null(Check([2, .. Int32s(40, 2, 0, 0)], PayloadSchema.BitArray));
        Assert.Contains("claims 256 bits in 0 words", Check([2, .. Int32s(256, 0)], PayloadSchema.BitArray));
    }

    [Fact]
    public void A_value_of_unknown_layout_is_accepted_unless_what_follows_could_be_an_overflowing_string_prefix()
    {
        PayloadSchema opaque = PayloadSchema.Unchecked("Custom");

        Assert.Null(Check([1, 2, 3, 4, 0, 0, 0, 0x7F], opaque));
        Assert.Contains("cannot check", Check([1, 2, 3, 0, 0, 0, 0x80], opaque));
    }

    [Fact]
    public void Fixed_size_values_need_no_walk_because_MemoryPack_bounds_checks_them()
    {
        Assert.False(PayloadCheck.NeedsWalk([PayloadSchema.Fixed<int>(), PayloadSchema.Fixed<Guid?>()]));
        Assert.True(PayloadCheck.NeedsWalk([PayloadSchema.Fixed<int>(), Text]));
        Assert.Throws<ArgumentException>(() => PayloadSchema.Fixed<string>());
    }

    private static string? Check(byte[] payload, PayloadSchema schema) => PayloadCheck.Check(payload, [schema], "argument");
}
