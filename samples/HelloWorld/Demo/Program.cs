using HelloWorld.Client;
using HelloWorld.Server;
using TypedZmq;

// The server binds tcp://*:5555 and the client connects to tcp://localhost:5555, as in the ZeroMQ guide.
// They share this process only for convenience: they talk over TCP exactly as two processes would.
try
{
    using RpcServer server = GreeterServer.Start(GreeterServer.DefaultEndpoint, Console.Out);
    Console.WriteLine($"Server listening on {server.BoundEndpoint}");
    await HelloClient.RunAsync(HelloClient.DefaultEndpoint, Console.Out);
}
catch (Exception ex) when (ex is RpcException or InvalidOperationException)
{
    Console.Error.WriteLine(ex.Message);
    return 1;
}

return 0;
