using System;
using Microsoft.Extensions.Logging;

namespace TypedZmq.Diagnostics;

/// <summary>
/// TypedZmq's log events, source-generated so that a disabled level costs a check and nothing else. Event ids and
/// names are stable: docs/observability.md lists them. Server events are 1-99, client events 100-199.
/// </summary>
internal static partial class Log
{
    public const string ServerCategory = "TypedZmq.Server";
    public const string ClientCategory = "TypedZmq.Client";

    [LoggerMessage(EventId = 1, EventName = "ServerStarted", Level = LogLevel.Information,
        Message = "TypedZmq server listening on {Endpoint} ({Kind}, secure mode {Secure}), hosting {Services}")]
    public static partial void ServerStarted(ILogger logger, string endpoint, RpcServerKind kind, bool secure, string services);

    [LoggerMessage(EventId = 2, EventName = "ServerStopped", Level = LogLevel.Information,
        Message = "TypedZmq server on {Endpoint} stopped; {Unfinished} calls were still running when it closed")]
    public static partial void ServerStopped(ILogger logger, string endpoint, int unfinished);

    [LoggerMessage(EventId = 3, EventName = "CallFailed", Level = LogLevel.Warning,
        Message = "{Service}/{Method} failed with {Status}: {Reason}")]
    public static partial void CallFailed(ILogger logger, string service, string method, RpcStatus status, string reason, Exception? exception);

    [LoggerMessage(EventId = 4, EventName = "RequestRefused", Level = LogLevel.Warning,
        Message = "Refused a request from {Peer} with {Status}: {Reason} ({Suppressed} more refusals were not logged in the last second)")]
    public static partial void RequestRefused(ILogger logger, string peer, RpcStatus status, string reason, long suppressed);

    [LoggerMessage(EventId = 101, EventName = "SocketReplaced", Level = LogLevel.Information,
        Message = "Replaced the REQ socket to {Endpoint} after {Method} {Reason}; a late reply to the old socket is dropped")]
    public static partial void SocketReplaced(ILogger logger, string endpoint, Internal.RpcMethod method, string reason);

    [LoggerMessage(EventId = 102, EventName = "Retrying", Level = LogLevel.Information,
        Message = "Retrying {Method} (attempt {Attempt} of {MaxAttempts}) after {Status}")]
    public static partial void Retrying(ILogger logger, Internal.RpcMethod method, int attempt, int maxAttempts, RpcStatus status);

    [LoggerMessage(EventId = 104, EventName = "EndpointChanged", Level = LogLevel.Information,
        Message = "Server set changed: {Endpoint} (connected: {Connected})")]
    public static partial void EndpointChanged(ILogger logger, string endpoint, bool connected);

    [LoggerMessage(EventId = 105, EventName = "ResolveFailed", Level = LogLevel.Warning,
        Message = "Could not resolve or use the server set at {Endpoint}; the current connections are kept")]
    public static partial void ResolveFailed(ILogger logger, string endpoint, Exception exception);

    [LoggerMessage(EventId = 103, EventName = "FailingOver", Level = LogLevel.Information,
        Message = "Failing {Method} over to the next server of {Endpoint} (attempt {Attempt} of {MaxAttempts}) after {Status}")]
    public static partial void FailingOver(ILogger logger, Internal.RpcMethod method, string endpoint, int attempt, int maxAttempts, RpcStatus status);
}
