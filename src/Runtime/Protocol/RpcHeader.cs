using System;
using System.Buffers.Binary;

namespace TypedZmq.Protocol;

/// <summary>
/// The fixed 32-byte header that starts every protocol version 1 message frame (the payload follows it in the same
/// frame). Layout (little-endian), documented in <c>docs/protocol.md</c>:
/// <code>
/// offset size field
///  0     1    magic      0x54 ('T')
///  1     1    version    1
///  2     1    kind       1 request, 2 reply, 3 error, 4 sealed request, 5 sealed reply, 6 cancel, 7 batch
///  3     1    status     0, or an RpcStatus in an error
///  4     4    flags      bit 0: a metadata block follows; bit 1: a sealed cancel (outer header of kind 4);
///                         bit 2: the sender reads batches (kind 7);
///                         bits 8-15: attempt; receivers ignore other bits
///  8     8    request id chosen by the client, echoed in the reply
/// 16     4    service id
/// 20     4    method id
/// 24     8    deadline   absolute, Unix time in milliseconds (UTC); 0 = none
/// </code>
/// </summary>
internal readonly struct RpcHeader
{
    public const int Size = 32;
    public const byte Magic = 0x54;
    public const byte CurrentVersion = 1;

    /// <summary>Flag bit: a metadata block follows the header (requests only).</summary>
    public const uint HasMetadataFlag = 1;

    /// <summary>Flag bit of a sealed request's outer header: the sealed message is a cancel.</summary>
    public const uint SealedCancelFlag = 2;

    /// <summary>
    /// Flag bit: the sender reads <see cref="MessageKind.Batch"/> messages from this connection. In a request, from a
    /// client that takes batched replies; in a reply or error, from a server that takes batched requests. Peers that do
    /// not know it ignore it, and never set it, so they are never sent a batch.
    /// </summary>
    public const uint BatchesWelcomeFlag = 4;

    /// <summary>
    /// Flag bit of a request: a pull of an open stream (docs/protocol.md, "Streams"): its payload names the stream (the
    /// request id that opened it) and the credit, and its reply is the next chunk.
    /// </summary>
    public const uint StreamPullFlag = 0x10;

    /// <summary>
    /// Flag bit of a request: a push of items into an open client stream (docs/protocol.md, "Streams"): its payload
    /// names the stream, then carries <c>(bool end, T[] items)</c>; the reply to the last push is the method's result.
    /// </summary>
    public const uint StreamPushFlag = 0x20;

    /// <summary>Whether the header sets <see cref="BatchesWelcomeFlag"/>.</summary>
    public bool WelcomesBatches => (Flags & BatchesWelcomeFlag) != 0;

    /// <summary>The same header with other flags.</summary>
    public RpcHeader WithFlags(uint flags) => new(Kind, Status, RequestId, ServiceId, MethodId, DeadlineUnixMs, flags);

    /// <summary>Whether a message is a cancel (plain, or sealed and marked as one), from its first bytes alone.</summary>
    public static bool LooksLikeCancel(ReadOnlySpan<byte> message) =>
        message.Length >= Size && message[0] == Magic &&
        (message[2] == (byte)MessageKind.Cancel ||
         (message[2] == (byte)MessageKind.SealedRequest && (BinaryPrimitives.ReadUInt32LittleEndian(message.Slice(4)) & SealedCancelFlag) != 0));

    private const int AttemptShift = 8;

    public RpcHeader(MessageKind kind, RpcStatus status, ulong requestId, uint serviceId, uint methodId, long deadlineUnixMs, uint flags = 0)
    {
        Kind = kind;
        Flags = flags;
        Status = status;
        RequestId = requestId;
        ServiceId = serviceId;
        MethodId = methodId;
        DeadlineUnixMs = deadlineUnixMs;
    }

    public MessageKind Kind { get; }

    public uint Flags { get; }

    public bool HasMetadata => (Flags & HasMetadataFlag) != 0;

    /// <summary>Which attempt of its call a request is (1 for the first); 0 when the sender did not say.</summary>
    public int Attempt => (int)((Flags >> AttemptShift) & 0xFF);

    /// <summary>The flags of a request: whether metadata follows, and its attempt (capped at 255).</summary>
    public static uint RequestFlags(bool hasMetadata, int attempt) =>
        (hasMetadata ? HasMetadataFlag : 0) | ((uint)Math.Clamp(attempt, 0, 255) << AttemptShift);

    public RpcStatus Status { get; }

    public ulong RequestId { get; }

    public uint ServiceId { get; }

    public uint MethodId { get; }

    public long DeadlineUnixMs { get; }

    public void Write(Span<byte> destination)
    {
        destination[0] = Magic;
        destination[1] = CurrentVersion;
        destination[2] = (byte)Kind;
        destination[3] = (byte)Status;
        BinaryPrimitives.WriteUInt32LittleEndian(destination.Slice(4), Flags);
        BinaryPrimitives.WriteUInt64LittleEndian(destination.Slice(8), RequestId);
        BinaryPrimitives.WriteUInt32LittleEndian(destination.Slice(16), ServiceId);
        BinaryPrimitives.WriteUInt32LittleEndian(destination.Slice(20), MethodId);
        BinaryPrimitives.WriteInt64LittleEndian(destination.Slice(24), DeadlineUnixMs);
    }

    /// <summary>Parses the header at the start of a message frame; on failure says why in words a peer's developer can act on.</summary>
    public static HeaderParseResult TryParse(ReadOnlySpan<byte> source, out RpcHeader header, out string? error)
    {
        header = default;
        if (source.Length == 0 || source[0] != Magic)
        {
            error = "the message does not start with a TypedZmq header (the magic byte 0x54); " +
                    "this endpoint speaks TypedZmq protocol version 1, see docs/protocol.md";
            return HeaderParseResult.NotTypedZmq;
        }

        if (source.Length < 2 || source[1] != CurrentVersion)
        {
            error = source.Length < 2
                ? "the message is truncated before its version byte"
                : $"protocol version {source[1]} is not supported; this endpoint speaks version {CurrentVersion}";
            return source.Length < 2 ? HeaderParseResult.Malformed : HeaderParseResult.UnsupportedVersion;
        }

        if (source.Length < Size)
        {
            error = $"the message is {source.Length} bytes, shorter than the {Size}-byte header every protocol version 1 message starts with";
            return HeaderParseResult.Malformed;
        }

        var kind = (MessageKind)source[2];
        if (kind is < MessageKind.Request or > MessageKind.Cancel)
        {
            error = kind == MessageKind.Batch
                ? "a batch (message kind 7) is read only where it is invited: by a concurrent server whose replies set the batches-welcome flag, " +
                  "by a client whose requests set it, and never inside another batch"
                : $"unknown message kind {source[2]} (1 = request, 2 = reply, 3 = error, 4 and 5 = sealed, in secure mode, 6 = cancel, 7 = batch)";
            return HeaderParseResult.Malformed;
        }

        header = new RpcHeader(
            kind,
            (RpcStatus)source[3],
            BinaryPrimitives.ReadUInt64LittleEndian(source.Slice(8)),
            BinaryPrimitives.ReadUInt32LittleEndian(source.Slice(16)),
            BinaryPrimitives.ReadUInt32LittleEndian(source.Slice(20)),
            BinaryPrimitives.ReadInt64LittleEndian(source.Slice(24)),
            BinaryPrimitives.ReadUInt32LittleEndian(source.Slice(4)));
        error = null;
        return HeaderParseResult.Ok;
    }

    /// <summary>Reads the request id from a header that failed to parse, if enough of it is there, so the error
    /// reply can still be correlated by a peer that multiplexes.</summary>
    public static ulong PeekRequestId(ReadOnlySpan<byte> source) =>
        source.Length >= 16 ? BinaryPrimitives.ReadUInt64LittleEndian(source.Slice(8)) : 0;
}

internal enum HeaderParseResult
{
    Ok,
    NotTypedZmq,
    UnsupportedVersion,
    Malformed,
}
