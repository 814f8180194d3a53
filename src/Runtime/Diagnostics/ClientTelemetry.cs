using System;
using System.Diagnostics;
using System.Threading.Tasks;

namespace TypedZmq.Diagnostics;

/// <summary>
/// The client span and metrics of a call, as the outermost interceptor: it covers every attempt, and puts the W3C trace
/// context into the request metadata so that the server's span is a child of this one. Used only while someone listens.
/// </summary>
internal sealed class ClientTelemetry : RpcClientInterceptor
{
    private readonly string? _address;
    private readonly int? _port;

    public ClientTelemetry(string endpoint)
    {
        (_address, _port) = Telemetry.Parse(endpoint);
    }

    public override async ValueTask InterceptAsync(RpcClientContext context, RpcClientContinuation next)
    {
        string method = context.Method.QualifiedName;
        Activity? activity = Telemetry.Source.StartActivity(method, ActivityKind.Client);
        if (activity is not null)
        {
            Telemetry.SetCallTags(activity, method, _address, _port);
            if (activity.IdFormat == ActivityIdFormat.W3C && activity.Id is { } id)
            {
                context.RequestMetadata.Remove(RpcDiagnostics.TraceParentKey);
                context.RequestMetadata.Add(RpcDiagnostics.TraceParentKey, id);
                if (!string.IsNullOrEmpty(activity.TraceStateString))
                {
                    context.RequestMetadata.Remove(RpcDiagnostics.TraceStateKey);
                    context.RequestMetadata.Add(RpcDiagnostics.TraceStateKey, activity.TraceStateString);
                }
            }
        }

        TagList tags = Telemetry.CallTags(method, _address, _port);
        Telemetry.ClientInFlight.Add(1, tags);
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
            error = Telemetry.StatusCode(ex.Status);
            throw;
        }
        catch (OperationCanceledException)
        {
            status = RpcStatus.Cancelled;
            error = Telemetry.StatusCode(RpcStatus.Cancelled);
            throw;
        }
        catch (Exception ex)
        {
            status = RpcStatus.Internal;
            error = ex.GetType().FullName;
            throw;
        }
        finally
        {
            activity?.SetTag("typedzmq.attempts", context.Attempts);
            Telemetry.EndCall(activity, Telemetry.ClientInFlight, Telemetry.ClientDuration, tags, start, status, error);
        }
    }
}
