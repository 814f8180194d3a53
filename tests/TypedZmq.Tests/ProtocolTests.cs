using System.Text.RegularExpressions;
using MemoryPack;
using TypedZmq.Protocol;
using TypedZmq.Tests.Contracts;
using TypedZmq.Tests.Infrastructure;

namespace TypedZmq.Tests;

/// <summary>The runtime's encoding matches docs/protocol.md, and the document's examples are true.</summary>
public sealed partial class ProtocolTests
{
    [Theory]
    [InlineData("", 0x811C9DC5u)]
    [InlineData("a", 0xE40C292Cu)]
    [InlineData("foobar", 0xBF9CF968u)]
    [InlineData("HelloWorld.Contracts.IGreeter", 0x52D5C049u)]
    public void Fnv1a_matches_the_published_test_vectors(string text, uint expected)
    {
        Assert.Equal(expected, Fnv1a.Hash(text));
        Assert.Equal(expected, WireFormat.Fnv1a(text));
    }

    [Fact]
    public void Fnv1a_hashes_the_UTF8_bytes_of_non_ASCII_names()
    {
        foreach (string text in new[] { "Größe", "名前", "emoji 𝄞", "lone \ud800 surrogate" })
        {
            Assert.Equal(WireFormat.Fnv1a(text), Fnv1a.Hash(text));
        }
    }

    [Fact]
    public void The_runtime_header_has_the_documented_layout()
    {
        var header = new RpcHeader(MessageKind.Error, RpcStatus.RemoteError, 0x0102030405060708, 0xAABBCCDD, 0x11223344, 1234567890123);
        var bytes = new byte[RpcHeader.Size];

        header.Write(bytes);

        Assert.Equal(
            new ParsedHeader(0x54, 1, 3, RpcStatus.RemoteError, 0x0102030405060708, 0xAABBCCDD, 0x11223344, 1234567890123),
            WireFormat.ParseHeader(bytes));
        Assert.Equal(HeaderParseResult.Ok, RpcHeader.TryParse(bytes, out RpcHeader parsed, out _));
        Assert.Equal(header.RequestId, parsed.RequestId);
        Assert.Equal(header.DeadlineUnixMs, parsed.DeadlineUnixMs);
    }

    [Fact]
    public void Every_id_in_the_document_is_the_hash_of_its_signature()
    {
        string doc = File.ReadAllText(Path.Combine(RepositoryRoot(), "docs", "protocol.md"));
        MatchCollection rows = IdRow().Matches(doc);

        Assert.True(rows.Count >= 5, "the id table was not found in docs/protocol.md");
        foreach (Match row in rows)
        {
            Assert.Equal(Convert.ToUInt32(row.Groups["id"].Value, 16), Fnv1a.Hash(row.Groups["signature"].Value));
        }
    }

    [Fact]
    public void The_document_encoding_examples_are_what_MemoryPack_writes()
    {
        Assert.Equal(Convert.FromHexString("FAFFFFFF0500000048656C6C6F"), MemoryPackSerializer.Serialize("Hello"));
        Assert.Equal(Convert.FromHexString("02FCFFFFFF03000000416E6E02000000"), MemoryPackSerializer.Serialize(new HelloWorld.Contracts.Request("Ann", 2)));
        Assert.Equal(Convert.FromHexString("0100000005000000"), MemoryPackSerializer.Serialize<int?>(5));
        Assert.Equal(Convert.FromHexString("FFFFFFFF"), MemoryPackSerializer.Serialize<string?>(null));
        Assert.Equal(Convert.FromHexString("FF"), MemoryPackSerializer.Serialize<Person?>(null));
    }

    [Fact]
    public void The_document_metadata_example_is_what_the_runtime_writes_and_reads()
    {
        byte[] documented = Convert.FromHexString("0F000000" + "07782D7472616365" + "03000000616263");
        var metadata = new RpcMetadata { { "x-trace", "abc" } };
        var written = new byte[MetadataBlock.EncodedSize(metadata)];

        MetadataBlock.Write(metadata, written);

        Assert.Equal(documented, written);
        Assert.Equal(documented, WireFormat.MetadataBlock(("x-trace", "abc"u8.ToArray())));
        Assert.True(MetadataBlock.TryRead(documented, out RpcMetadata? read, out int size, out _));
        Assert.Equal(documented.Length, size);
        Assert.Equal("abc", read!.GetString("x-trace"));
    }

    [Fact]
    public void Header_flags_carry_the_metadata_bit_and_the_attempt_in_bits_8_to_15()
    {
        var header = new RpcHeader(MessageKind.Request, RpcStatus.Ok, 1, 2, 3, 0, RpcHeader.RequestFlags(hasMetadata: true, attempt: 3));
        var bytes = new byte[RpcHeader.Size];

        header.Write(bytes);

        Assert.Equal(new byte[] { 0x01, 0x03, 0x00, 0x00 }, bytes[4..8]);
        Assert.Equal(HeaderParseResult.Ok, RpcHeader.TryParse(bytes, out RpcHeader parsed, out _));
        Assert.True(parsed.HasMetadata);
        Assert.Equal(3, parsed.Attempt);
    }

    [Fact]
    public void A_UTF16_encoded_string_argument_is_accepted_too()
    {
        using var server = TestServer.Start(Transport.Inproc);
        using var peer = new RawPeer(server.Endpoint);
        byte[] utf16 = [.. WireFormat.Int32s(2), .. "hi"u8.ToArray().SelectMany(b => new byte[] { b, 0 })];

        List<byte[]> reply = peer.Exchange(WireFormat.Message(
            WireFormat.Header(1, 1, WireFormat.Fnv1a("TypedZmq.Tests.Contracts.IShapes"), WireFormat.Fnv1a("Echo(System.String)")),
            utf16));

        int offset = 0;
        Assert.Equal("hi", WireFormat.ReadString(WireFormat.Payload(Assert.Single(reply)), ref offset));
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "TypedZmq.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("TypedZmq.sln not found above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex(@"\| `(?<signature>[A-Za-z]+\([^`]*\))` \| `0x(?<id>[0-9A-F]{8})` \|")]
    private static partial Regex IdRow();
}
