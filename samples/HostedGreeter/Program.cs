using HelloWorld.Contracts;
using HostedGreeter;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using TypedZmq;
using TypedZmq.Hosting;

// dotnet run --project samples/HostedGreeter
// A worker-service host that serves IGreeter (a DI scope per call) and calls it through an injected IGreeter proxy,
// with the settings of both in appsettings.json. The OpenTelemetry console exporter prints the client span and its
// child server span: the same trace id, across the TypedZmq call.
// appsettings.json sits next to the program, wherever it is started from.
HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory });

builder.Services.AddTypedZmqServer()
    .BindConfiguration("TypedZmq:Server")
    .AddService<IGreeter, LoggingGreeter>();
builder.Services.AddTypedZmqClient<IGreeter>().BindConfiguration("TypedZmq:Client");
builder.Services.AddHostedService<Caller>();

builder.Services.AddOpenTelemetry()
    .WithTracing(tracing => tracing.AddSource(RpcDiagnostics.ActivitySourceName).AddConsoleExporter())
    .WithMetrics(metrics => metrics.AddMeter(RpcDiagnostics.MeterName).AddConsoleExporter());

await builder.Build().RunAsync();
