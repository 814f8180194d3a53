namespace TypedZmq;

/// <summary>How a multiplexed <see cref="RpcClient"/> with several servers picks the server for each call.</summary>
public enum RpcLoadBalancing
{
    /// <summary>
    /// The connected server with the fewest of this client's calls in flight (ties are taken in turn). A server that
    /// answers slowly keeps more calls in flight and so gets fewer new ones, in proportion to how fast it answers.
    /// </summary>
    LeastInFlight,

    /// <summary>Every connected server in turn, whether it is busy or not (what a single ZeroMQ DEALER does).</summary>
    RoundRobin,
}
