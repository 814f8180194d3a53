using System;

namespace TypedZmq.Server;

/// <summary>
/// One server kind: the owner of the server's socket and the thread that serves it. It reads requests, hands them to
/// the <see cref="RequestHandler"/> and sends back what it answers; nothing else touches its socket.
/// </summary>
internal interface IServerLoop : IDisposable
{
    /// <summary>The endpoint the socket is bound to, with the port that was picked.</summary>
    string BoundEndpoint { get; }

    /// <summary>Starts serving on the loop's thread.</summary>
    void Start();

    /// <summary>Makes the loop look at the handler's state now (a server that stops refuses what waits in its queue).</summary>
    void Wake();

    /// <summary>Stops the thread and closes the socket; false when the thread did not come back in time (the socket stays open then).</summary>
    bool Close(TimeSpan waitForThread);
}
