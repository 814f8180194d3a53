using HelloWorld.Client;
using HelloWorld.Server;
using TypedZmq;

// The server binds tcp://*:5555 and the client connects to tcp://localhost:5555, as in the ZeroMQ guide.
// They share this process only for convenience: they talk over TCP exactly as two processes would.
// With --secure, both run in secure mode (docs/security.md) with key pairs made for this run: the server allows only
// the client's key, the client pins the server's key, and every message on the wire is sealed.
bool secure = args.Contains("--secure");
RpcKeyPair serverKey = RpcKeyPair.Generate();
RpcKeyPair clientKey = RpcKeyPair.Generate();
try
{
    using RpcServer server = GreeterServer.Start(
        new RpcServerOptions
        {
            Endpoint = GreeterServer.DefaultEndpoint,
            Security = secure ? new RpcServerSecurity(serverKey).AllowClient(clientKey.PublicKey, "demo client") : null,
        },
        Console.Out);
    Console.WriteLine($"Server listening on {server.BoundEndpoint}");
    if (secure)
    {
        Console.WriteLine($"Secure mode: server key {serverKey.PublicKey}, allowed client key {clientKey.PublicKey}");
    }

    await HelloClient.RunAsync(
        new RpcClientOptions
        {
            Endpoint = HelloClient.DefaultEndpoint,
            Security = secure ? new RpcClientSecurity(clientKey, serverKey.PublicKey) : null,
        },
        Console.Out);
}
catch (Exception ex) when (ex is RpcException or InvalidOperationException)
{
    Console.Error.WriteLine(ex.Message);
    return 1;
}

return 0;
