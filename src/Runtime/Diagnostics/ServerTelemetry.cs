using System;
using System.Diagnostics;
using System.Threading.Tasks;

namespace TypedZmq.Diagnostics;

/// <summary>
/// The server span and metrics of a call, as the outermost server interceptor; the span is the child of the client's
/// when the request carries a W3C trace context. Used only while someone listens.
/// </summary>
internal sealed class ServerTelemetry : RpcServerInterceptor
{
    private string? _address;
    private int? _port;

    /// <summary>Where the server listens, once it is bound.</summary>
    public void Bound(string endpoint) => (_address, _port) = Telemetry.Parse(endpoint);

    public override async ValueTask InterceptAsync(RpcCallContext context, RpcServerContinuation next)
    {
        string method = context.Method?.QualifiedName ?? context.ServiceName + "/" + context.MethodName;
        ActivityContext parent = default;
        string? traceParent = context.RequestMetadata.GetString(RpcDiagnostics.TraceParentKey);
        if (traceParent is not null)
        {
            ActivityContext.TryParse(traceParent, context.RequestMetadata.GetString(RpcDiagnostics.TraceStateKey), isRemote: true, out parent);
        }

        if (parent == default)
        {
            // A root span: never the child of whatever activity the server's thread happened to start under. (An async
            // method restores the caller's Activity.Current when it returns, so this stays within the call.)
            Activity.Current = null;
        }

        Activity? activity = Telemetry.Source.StartActivity(method, ActivityKind.Server, parent);
        if (activity is not null)
        {
            Telemetry.SetCallTags(activity, method, _address, _port);
            activity.SetTag("typedzmq.attempt", context.Attempt);
            if (context.Peer.Identity is { } identity)
            {
                activity.SetTag("typedzmq.peer.identity", identity);
            }
        }

        TagList tags = Telemetry.CallTags(method, _address, _port);
        Telemetry.ServerInFlight.Add(1, tags);
        long start = Stopwatch.GetTimestamp();
        RpcStatus status = RpcStatus.Ok;
        string? error = null;
        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch (RpcException ex)
        {
            status = ex.Status;
            error = ex.Status == RpcStatus.RemoteError ? ex.RemoteExceptionType ?? Telemetry.StatusCode(ex.Status) : Telemetry.StatusCode(ex.Status);
            throw;
        }
        catch (OperationCanceledException)
        {
            status = RpcStatus.Cancelled;
            error = Telemetry.StatusCode(status);
            throw;
        }
        catch (Exception ex)
        {
            status = RpcStatus.RemoteError;
            error = ex.GetType().FullName;
            throw;
        }
        finally
        {
            Telemetry.EndCall(activity, Telemetry.ServerInFlight, Telemetry.ServerDuration, tags, start, status, error);
        }
    }
}
