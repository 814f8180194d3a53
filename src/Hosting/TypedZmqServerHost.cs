using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace TypedZmq.Hosting;

/// <summary>
/// One named server as a hosted service: bound when the host starts, stopped gracefully (new calls refused, calls in
/// flight drained) when it stops, within the host's shutdown timeout.
/// </summary>
internal sealed class TypedZmqServerHost(string name, IServiceProvider services) : IHostedService, IDisposable
{
    private RpcServer? _server;

    public string Name => name;

    public RpcServer? Server => _server;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        TypedZmqServerOptions settings = services.GetRequiredService<IOptionsMonitor<TypedZmqServerOptions>>().Get(name);
        var options = new RpcServerOptions
        {
            Endpoint = settings.Endpoint!,
            Kind = settings.Kind,
            MaxConcurrentCalls = settings.MaxConcurrentCalls,
            MaxQueuedRequests = settings.MaxQueuedRequests,
            MaxCallsPerPeer = settings.MaxCallsPerPeer,
            MaxOpenStreams = settings.MaxOpenStreams,
            MaxOpenStreamsPerPeer = settings.MaxOpenStreamsPerPeer,
            StreamIdleTimeout = settings.StreamIdleTimeout,
            StopTimeout = settings.StopTimeout,
            ReplyCacheSize = settings.ReplyCacheSize,
            MaxMessageSize = settings.MaxMessageSize,
            IncludeExceptionDetails = settings.IncludeExceptionDetails,
            Security = settings.Security,
            HeartbeatInterval = settings.HeartbeatInterval,
            HeartbeatTimeout = settings.HeartbeatTimeout,
            LoggerFactory = services.GetService<ILoggerFactory>(),
        };

        ServerPart[] parts = services.GetServices<ServerPart>().Where(p => p.Server == name).ToArray();
        options.Interceptors.Add(new CallScope(services.GetRequiredService<IServiceScopeFactory>()));
        foreach (ServerPart part in parts)
        {
            if (part.Interceptor is not null)
            {
                options.Interceptors.Add(part.Interceptor);
            }
        }

        var server = new RpcServer(options);
        try
        {
            foreach (ServerPart part in parts)
            {
                part.AddTo?.Invoke(server);
            }

            server.Start(); // binds now: a port in use fails the host's start
        }
        catch
        {
            server.Dispose();
            throw;
        }

        _server = server;
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_server is { } server)
        {
            // Calls in flight drain for up to the server's StopTimeout; when the host's shutdown timeout ends first, the
            // server stops waiting, cancels them and closes.
            await server.StopAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public void Dispose() => _server?.Dispose();
}
