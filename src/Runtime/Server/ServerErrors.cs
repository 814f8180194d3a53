using System;

namespace TypedZmq.Server;

/// <summary>How a failure becomes an error reply: its status, exception type, message and detail.</summary>
internal static class ServerErrors
{
    public const string Stopping = "the server is stopping and takes no new calls; retry on another server or later.";

    /// <summary>The outcome of an implementation that threw, as interceptors see it.</summary>
    public static RpcException FromImplementation(Exception exception, RpcCallContext context)
    {
        (RpcStatus status, string? type, string message) = Describe(exception, context);
        return new RpcException(status, message, type, remoteStackTrace: null, exception);
    }

    /// <summary>What to send for a call that failed with <paramref name="exception"/>.</summary>
    public static (RpcStatus Status, string? Type, string Message, string? Detail) ForReply(Exception exception, RpcCallContext context, bool includeDetails)
    {
        if (exception is RpcException rpc)
        {
            Exception source = rpc.InnerException ?? rpc;
            return (rpc.Status, rpc.RemoteExceptionType, rpc.Message, includeDetails ? source.ToString() : null);
        }

        (RpcStatus status, string? type, string message) = Describe(exception, context);
        return (status, type, message, includeDetails ? exception.ToString() : null);
    }

    private static (RpcStatus Status, string? Type, string Message) Describe(Exception exception, RpcCallContext context)
    {
        if (exception is OperationCanceledException)
        {
            if (context.ServerStopping.IsCancellationRequested)
            {
                return (RpcStatus.Cancelled, exception.GetType().FullName, "the server is stopping and cancelled the call.");
            }

            if (context.CancelledByClient)
            {
                return (RpcStatus.Cancelled, exception.GetType().FullName, "the client cancelled the call, or its connection ended.");
            }

            if (context.DeadlinePassed)
            {
                return (RpcStatus.DeadlineExceeded, exception.GetType().FullName, "the call's deadline passed while it ran, and it was cancelled.");
            }
        }

        return (RpcStatus.RemoteError, exception.GetType().FullName, exception.Message);
    }
}
