using System;
using System.Collections.Generic;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace TypedZmq.Hosting;

/// <summary>
/// The RpcClients behind DI proxies: one per set of settings (endpoint, channel, timeouts...), shared by every proxy
/// registered with them, created when first needed and disposed with the container.
/// </summary>
internal sealed class TypedZmqClientPool(IOptionsMonitor<TypedZmqClientOptions> options, ILoggerFactory? loggers = null) : IDisposable
{
    private readonly Dictionary<Key, RpcClient> _clients = new();
    private bool _disposed;

    public RpcClient For(string name)
    {
        TypedZmqClientOptions settings = options.Get(name); // validated here, if not already at start
        // Security compares by reference (a record's default for a class without Equals): two key sets never share a client.
        var key = new Key(settings.Endpoint, settings.Channel, settings.Timeout, settings.MaxAttempts, settings.RetryBackoff,
            settings.RetryNonIdempotentCalls, settings.MaxMessageSize, settings.Security, settings.HeartbeatInterval, settings.HeartbeatTimeout, settings.LoadBalancing,
            settings.MaxCallsInFlightPerServer, settings.StreamCredit);
        lock (_clients)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_clients.TryGetValue(key, out RpcClient? client))
            {
                client = new RpcClient(new RpcClientOptions
                {
                    Endpoint = settings.Endpoint!,
                    Channel = settings.Channel,
                    Timeout = settings.Timeout,
                    MaxAttempts = settings.MaxAttempts,
                    RetryBackoff = settings.RetryBackoff,
                    RetryNonIdempotentCalls = settings.RetryNonIdempotentCalls,
                    MaxMessageSize = settings.MaxMessageSize,
                    Security = settings.Security,
                    HeartbeatInterval = settings.HeartbeatInterval,
                    HeartbeatTimeout = settings.HeartbeatTimeout,
                    LoadBalancing = settings.LoadBalancing,
                    MaxCallsInFlightPerServer = settings.MaxCallsInFlightPerServer,
                    StreamCredit = settings.StreamCredit,
                    LoggerFactory = loggers,
                });
                _clients.Add(key, client);
            }

            return client;
        }
    }

    public void Dispose()
    {
        lock (_clients)
        {
            _disposed = true;
            foreach (RpcClient client in _clients.Values)
            {
                client.Dispose();
            }

            _clients.Clear();
        }
    }

    private readonly record struct Key(
        string? Endpoint, RpcChannelKind Channel, TimeSpan Timeout, int MaxAttempts, TimeSpan RetryBackoff, bool RetryNonIdempotentCalls,
        long MaxMessageSize, RpcClientSecurity? Security, TimeSpan HeartbeatInterval, TimeSpan HeartbeatTimeout,
        RpcLoadBalancing LoadBalancing, int? MaxCallsInFlightPerServer, int StreamCredit);
}
