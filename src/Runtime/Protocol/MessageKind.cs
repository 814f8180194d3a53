namespace TypedZmq.Protocol;

/// <summary>The message kind byte of a header (protocol version 1).</summary>
internal enum MessageKind : byte
{
    Request = 1,
    Reply = 2,
    Error = 3,
}
