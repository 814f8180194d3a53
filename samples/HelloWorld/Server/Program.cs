using HelloWorld.Server;
using TypedZmq;

// Usage: dotnet run --project samples/HelloWorld/Server [endpoint] [--keys DIR]   (default tcp://*:5555; Ctrl+C stops)
// With --keys, secure mode: the server's key pair from DIR/server.key_secret, and DIR/client.key as the one allowed
// client (make both with samples/KeyTool; see docs/security.md).
string endpoint = args.Length > 0 && !args[0].StartsWith("--", StringComparison.Ordinal) ? args[0] : GreeterServer.DefaultEndpoint;
int keys = Array.IndexOf(args, "--keys");
RpcServerSecurity? security = keys >= 0 && keys + 1 < args.Length
    ? new RpcServerSecurity(RpcKeyPair.Load(Path.Combine(args[keys + 1], "server.key_secret")))
        .AllowClient(RpcPublicKey.Load(Path.Combine(args[keys + 1], "client.key")), "client")
    : null;

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};

using var server = GreeterServer.Start(new RpcServerOptions { Endpoint = endpoint, Security = security }, Console.Out);
Console.WriteLine($"Greeter listening on {server.BoundEndpoint}{(security is null ? "" : $", secure mode, public key {security.ServerKey.PublicKey}")}. Press Ctrl+C to stop.");
await server.RunAsync(stop.Token);
