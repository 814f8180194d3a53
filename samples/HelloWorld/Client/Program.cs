using HelloWorld.Client;
using TypedZmq;

// Usage: dotnet run --project samples/HelloWorld/Client [endpoint] [--keys DIR]   (default tcp://localhost:5555)
// With --keys, secure mode: the client's key pair from DIR/client.key_secret, and DIR/server.key pinned as the server's.
string endpoint = args.Length > 0 && !args[0].StartsWith("--", StringComparison.Ordinal) ? args[0] : HelloClient.DefaultEndpoint;
int keys = Array.IndexOf(args, "--keys");
RpcClientSecurity? security = keys >= 0 && keys + 1 < args.Length
    ? new RpcClientSecurity(
        RpcKeyPair.Load(Path.Combine(args[keys + 1], "client.key_secret")),
        RpcPublicKey.Load(Path.Combine(args[keys + 1], "server.key")))
    : null;
try
{
    await HelloClient.RunAsync(new RpcClientOptions { Endpoint = endpoint, Security = security }, Console.Out);
}
catch (RpcException ex)
{
    Console.Error.WriteLine($"{ex.Status}: {ex.Message}");
    return 1;
}

return 0;
