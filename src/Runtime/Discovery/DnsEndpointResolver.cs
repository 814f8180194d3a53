using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace TypedZmq;

/// <summary>
/// The servers behind a DNS name, one endpoint per address record (A and AAAA): what a Kubernetes headless service or
/// Consul DNS gives, where each pod or instance is a record of the name.
/// </summary>
public sealed class DnsEndpointResolver : IRpcEndpointResolver
{
    private readonly string _host;
    private readonly int _port;

    /// <summary>Resolves <paramref name="host"/> and connects to <paramref name="port"/> on every address.</summary>
    /// <param name="host">The DNS name, for example <c>orders.default.svc.cluster.local</c>.</param>
    /// <param name="port">The servers' port.</param>
    public DnsEndpointResolver(string host, int port)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(host);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        _host = host;
        _port = port;
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyCollection<string>> ResolveAsync(CancellationToken cancellationToken)
    {
        IPAddress[] addresses = await Dns.GetHostAddressesAsync(_host, cancellationToken).ConfigureAwait(false);
        var endpoints = new List<string>(addresses.Length);
        foreach (IPAddress address in addresses)
        {
            endpoints.Add(address.AddressFamily == AddressFamily.InterNetworkV6
                ? $"tcp://[{address}]:{_port}"
                : $"tcp://{address}:{_port}");
        }

        return endpoints;
    }
}
