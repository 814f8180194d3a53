using System;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace TypedZmq.Diagnostics;

/// <summary>
/// TypedZmq's spans and instruments, after the OpenTelemetry semantic conventions for RPC (the version pinned in
/// docs/observability.md). Everything checks for a listener first: with none, a call takes the path it takes without
/// telemetry and nothing is created or allocated.
/// </summary>
internal static class Telemetry
{
    public const string System = "typedzmq";

    private static readonly string? Version = typeof(Telemetry).Assembly.GetName().Version?.ToString(3);

    public static readonly ActivitySource Source = new(RpcDiagnostics.ActivitySourceName, Version);

    public static readonly Meter Meter = new(RpcDiagnostics.MeterName, Version);

    public static readonly Histogram<double> ClientDuration = Duration("rpc.client.call.duration", "Duration of RPC calls made by the client, retries included.");

    public static readonly Histogram<double> ServerDuration = Duration("rpc.server.call.duration", "Duration of RPC calls run by the server.");

    public static readonly UpDownCounter<long> ClientInFlight = Meter.CreateUpDownCounter<long>(
        "typedzmq.client.calls_in_flight", "{call}", "Calls a client has started and not finished.");

    public static readonly UpDownCounter<long> ServerInFlight = Meter.CreateUpDownCounter<long>(
        "typedzmq.server.calls_in_flight", "{call}", "Calls a server is running (read and not yet answered).");

    public static readonly UpDownCounter<long> ServerQueued = Meter.CreateUpDownCounter<long>(
        "typedzmq.server.queued_requests", "{request}", "Requests waiting for a free slot on a concurrent server.");

    public static readonly Counter<long> ServerRefused = Meter.CreateCounter<long>(
        "typedzmq.server.requests_refused", "{request}", "Requests answered with an error without being run (malformed, unknown, over a limit, not authenticated, server stopping).");

    public static readonly Counter<long> ClientSocketReplacements = Meter.CreateCounter<long>(
        "typedzmq.client.socket_replacements", "{socket}", "REQ sockets a client closed and replaced after a call timed out or was cancelled (Lazy Pirate).");

    public static readonly Counter<long> ClientRetries = Meter.CreateCounter<long>(
        "typedzmq.client.retries", "{attempt}", "Attempts a client sent again after a timeout or an Unavailable answer.");

    public static bool ClientEnabled => Source.HasListeners() || ClientDuration.Enabled || ClientInFlight.Enabled;

    public static bool ServerEnabled => Source.HasListeners() || ServerDuration.Enabled || ServerInFlight.Enabled;

    /// <summary>The attributes every span and measurement of a call carries.</summary>
    public static TagList CallTags(string method, string? address, int? port) => new()
    {
        { "rpc.system.name", System },
        { "rpc.method", method },
        { "server.address", address },
        { "server.port", port },
    };

    /// <summary>Sets <see cref="CallTags"/> on a span.</summary>
    public static void SetCallTags(Activity activity, string method, string? address, int? port)
    {
        activity.SetTag("rpc.system.name", System);
        activity.SetTag("rpc.method", method);
        activity.SetTag("server.address", address);
        activity.SetTag("server.port", port);
    }

    /// <summary>
    /// Ends one call's telemetry, on either side: out of the in-flight count, its duration recorded with its outcome,
    /// its span (if any) given the outcome and stopped.
    /// </summary>
    public static void EndCall(
        Activity? activity, UpDownCounter<long> inFlight, Histogram<double> duration, TagList tags, long startTimestamp, RpcStatus status, string? error)
    {
        inFlight.Add(-1, tags);
        string code = StatusCode(status);
        tags.Add("rpc.response.status_code", code);
        if (error is not null)
        {
            tags.Add("error.type", error);
        }

        duration.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds, tags);
        if (activity is null)
        {
            return;
        }

        activity.SetTag("rpc.response.status_code", code);
        if (error is not null)
        {
            activity.SetTag("error.type", error);
            activity.SetStatus(ActivityStatusCode.Error);
        }

        activity.Dispose();
    }

    /// <summary>The <c>server.address</c> and <c>server.port</c> of a ZeroMQ endpoint (the first of a list).</summary>
    public static (string? Address, int? Port) Parse(string? endpoint)
    {
        if (string.IsNullOrEmpty(endpoint))
        {
            return (null, null);
        }

        int comma = endpoint.IndexOf(',', StringComparison.Ordinal);
        string first = (comma < 0 ? endpoint : endpoint.Substring(0, comma)).Trim();
        int scheme = first.IndexOf("://", StringComparison.Ordinal);
        string rest = scheme < 0 ? first : first.Substring(scheme + 3);
        int colon = rest.LastIndexOf(':');
        return first.StartsWith("tcp://", StringComparison.Ordinal) && colon > 0 && int.TryParse(rest.AsSpan(colon + 1), out int port)
            ? (rest.Substring(0, colon), port)
            : (rest, null);
    }

    public static string StatusCode(RpcStatus status) => status switch
    {
        RpcStatus.Ok => "OK",
        RpcStatus.Cancelled => "CANCELLED",
        RpcStatus.DeadlineExceeded => "DEADLINE_EXCEEDED",
        RpcStatus.Unavailable => "UNAVAILABLE",
        RpcStatus.Unimplemented => "UNIMPLEMENTED",
        RpcStatus.BadRequest => "BAD_REQUEST",
        RpcStatus.UnsupportedVersion => "UNSUPPORTED_VERSION",
        RpcStatus.RemoteError => "REMOTE_ERROR",
        RpcStatus.Internal => "INTERNAL",
        RpcStatus.Unauthenticated => "UNAUTHENTICATED",
        RpcStatus.PermissionDenied => "PERMISSION_DENIED",
        RpcStatus.ResourceExhausted => "RESOURCE_EXHAUSTED",
        _ => "UNKNOWN",
    };

    private static Histogram<double> Duration(string name, string description) =>
        Meter.CreateHistogram(name, "s", description, tags: null, new InstrumentAdvice<double>
        {
            // The conventions' advised boundaries for RPC durations.
            HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10],
        });
}
