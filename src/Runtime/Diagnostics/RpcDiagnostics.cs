namespace TypedZmq;

/// <summary>
/// The names under which TypedZmq reports what it does, for tracing and metrics tools such as OpenTelemetry:
/// <c>builder.AddSource(RpcDiagnostics.ActivitySourceName)</c>, <c>builder.AddMeter(RpcDiagnostics.MeterName)</c>.
/// Logs go to the <c>ILoggerFactory</c> set in <see cref="RpcServerOptions.LoggerFactory"/> and
/// <see cref="RpcClientOptions.LoggerFactory"/>. See docs/observability.md for every span, metric and log event.
/// </summary>
public static class RpcDiagnostics
{
    /// <summary>The <see cref="System.Diagnostics.ActivitySource"/> of client and server spans: <c>TypedZmq</c>.</summary>
    public const string ActivitySourceName = "TypedZmq";

    /// <summary>The <see cref="System.Diagnostics.Metrics.Meter"/> of TypedZmq's instruments: <c>TypedZmq</c>.</summary>
    public const string MeterName = "TypedZmq";

    /// <summary>The request metadata key that carries the W3C trace context (<c>traceparent</c>) from client to server.</summary>
    public const string TraceParentKey = "traceparent";

    /// <summary>The request metadata key that carries the W3C <c>tracestate</c>, when there is one.</summary>
    public const string TraceStateKey = "tracestate";
}
