using HelloWorld.Contracts;
using TypedZmq;

namespace HelloWorld.Server;

/// <summary>Hosts the greeter, like the ZeroMQ guide's hello world server (a REP socket bound on tcp://*:5555).</summary>
public static class GreeterServer
{
    /// <summary>The guide's endpoint.</summary>
    public const string DefaultEndpoint = "tcp://*:5555";

    /// <summary>Creates and starts a server that hosts <see cref="Greeter"/>.</summary>
    /// <param name="endpoint">Where to listen.</param>
    /// <param name="log">Where the greeter logs.</param>
    /// <returns>The running server; dispose it to stop.</returns>
    public static RpcServer Start(string endpoint, TextWriter log) => Start(new RpcServerOptions { Endpoint = endpoint }, log);

    /// <summary>Creates and starts a server that hosts <see cref="Greeter"/>, with any options (secure mode, for one).</summary>
    /// <param name="options">The server's options.</param>
    /// <param name="log">Where the greeter logs.</param>
    /// <returns>The running server; dispose it to stop.</returns>
    public static RpcServer Start(RpcServerOptions options, TextWriter log)
    {
        var server = new RpcServer(options);
        try
        {
            server.AddService<IGreeter>(new Greeter(log));
            server.Start();
            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }
}
