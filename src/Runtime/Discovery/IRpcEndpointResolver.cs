using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace TypedZmq;

/// <summary>
/// Tells a client which servers to connect to, asked again every <see cref="RpcClientOptions.ResolveInterval"/>: the
/// client connects to endpoints that appear and disconnects from ones that go (see docs/scaling.md, "Server sets
/// that change"). <see cref="DnsEndpointResolver"/> reads them from DNS; implement it for any other discovery.
/// </summary>
public interface IRpcEndpointResolver
{
    /// <summary>The endpoints to be connected to now, for example <c>tcp://10.0.0.7:5555</c>.</summary>
    /// <param name="cancellationToken">Cancelled when the client is disposed.</param>
    /// <returns>The endpoints; an empty set keeps the current connections (a resolver that fails should throw instead).</returns>
    ValueTask<IReadOnlyCollection<string>> ResolveAsync(CancellationToken cancellationToken);
}
