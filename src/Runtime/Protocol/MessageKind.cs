namespace TypedZmq.Protocol;

/// <summary>The message kind byte of a header (protocol version 1).</summary>
internal enum MessageKind : byte
{
    Request = 1,
    Reply = 2,
    Error = 3,

    /// <summary>Secure mode: a request sealed for the server's key (docs/protocol.md, "Secure mode").</summary>
    SealedRequest = 4,

    /// <summary>Secure mode: a reply or error sealed for the client that sent the request.</summary>
    SealedReply = 5,

    /// <summary>The client no longer waits for a request: stop it if it runs, drop it if it waits (never answered, except by a REP socket).</summary>
    Cancel = 6,

    /// <summary>Several complete messages in one frame, sent only to a peer that said it reads them (see <see cref="MessageBatch"/>).</summary>
    Batch = 7,
}
