using System;

namespace TypedZmq;

/// <summary>
/// The one exception a TypedZmq call throws when it fails for any reason other than the caller's own
/// <see cref="System.Threading.CancellationToken"/> (which throws <see cref="OperationCanceledException"/>).
/// Switch on <see cref="Status"/> to decide what to do.
/// </summary>
public sealed class RpcException : Exception
{
    /// <summary>Creates an exception with a status and a message that says what happened and what to do.</summary>
    /// <param name="status">Why the call failed.</param>
    /// <param name="message">What happened and what to do about it.</param>
    public RpcException(RpcStatus status, string message)
        : base(message)
    {
        Status = status;
    }

    /// <summary>Creates an exception that wraps the exception that caused it.</summary>
    /// <param name="status">Why the call failed.</param>
    /// <param name="message">What happened and what to do about it.</param>
    /// <param name="innerException">The exception that caused this one.</param>
    public RpcException(RpcStatus status, string message, Exception? innerException)
        : base(message, innerException)
    {
        Status = status;
    }

    /// <summary>Creates an exception that describes an error reported by the remote side.</summary>
    /// <param name="status">Why the call failed.</param>
    /// <param name="message">What happened and what to do about it.</param>
    /// <param name="remoteExceptionType">Full type name of the exception the service implementation threw.</param>
    /// <param name="remoteStackTrace">The remote stack trace, when the server opted in to sending it.</param>
    public RpcException(RpcStatus status, string message, string? remoteExceptionType, string? remoteStackTrace)
        : base(message)
    {
        Status = status;
        RemoteExceptionType = remoteExceptionType;
        RemoteStackTrace = remoteStackTrace;
    }

    /// <summary>Creates an exception that describes an error reported by the remote side, with its cause.</summary>
    /// <param name="status">Why the call failed.</param>
    /// <param name="message">What happened and what to do about it.</param>
    /// <param name="remoteExceptionType">Full type name of the exception the service implementation threw.</param>
    /// <param name="remoteStackTrace">The remote stack trace, when the server opted in to sending it.</param>
    /// <param name="innerException">The exception that caused this one, on the side where it happened.</param>
    public RpcException(RpcStatus status, string message, string? remoteExceptionType, string? remoteStackTrace, Exception? innerException)
        : base(message, innerException)
    {
        Status = status;
        RemoteExceptionType = remoteExceptionType;
        RemoteStackTrace = remoteStackTrace;
    }

    /// <summary>Why the call failed.</summary>
    public RpcStatus Status { get; }

    /// <summary>
    /// For <see cref="RpcStatus.RemoteError"/>: the full type name of the exception the service implementation threw
    /// (for example <c>System.ArgumentException</c>); otherwise <see langword="null"/>.
    /// </summary>
    public string? RemoteExceptionType { get; }

    /// <summary>
    /// The server-side stack trace, sent only when the server sets
    /// <see cref="RpcServerOptions.IncludeExceptionDetails"/>; otherwise <see langword="null"/>.
    /// </summary>
    public string? RemoteStackTrace { get; }
}
