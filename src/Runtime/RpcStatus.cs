namespace TypedZmq;

/// <summary>
/// Why a call failed. The numeric values are part of wire protocol version 1 (the status byte of an error header);
/// see <c>docs/protocol.md</c>.
/// </summary>
public enum RpcStatus : byte
{
    /// <summary>The call succeeded. Never carried by an <see cref="RpcException"/>.</summary>
    Ok = 0,

    /// <summary>The call was cancelled: the server stopped while running it, or the client was disposed mid-call.</summary>
    Cancelled = 1,

    /// <summary>No reply arrived before the call's deadline. The call may still have run on the server.</summary>
    DeadlineExceeded = 2,

    /// <summary>The server could not take the call (for example it is stopping or over its limits). Safe to retry later.</summary>
    Unavailable = 3,

    /// <summary>The server does not host the requested service or method.</summary>
    Unimplemented = 4,

    /// <summary>The request could not be parsed: malformed frames, an unknown message kind or an undecodable payload.</summary>
    BadRequest = 5,

    /// <summary>The peer speaks a protocol version this side does not.</summary>
    UnsupportedVersion = 6,

    /// <summary>The service implementation threw; the exception's type name and message travel with the error.</summary>
    RemoteError = 7,

    /// <summary>A fault inside TypedZmq itself, for example a reply that could not be encoded or decoded.</summary>
    Internal = 8,

    /// <summary>The server does not know who the caller is: credentials are missing or not valid.</summary>
    Unauthenticated = 9,

    /// <summary>The server knows who the caller is and does not allow this call.</summary>
    PermissionDenied = 10,

    /// <summary>A quota or rate limit is used up (for example too many calls from one caller). Retry later.</summary>
    ResourceExhausted = 11,
}
