using HelloWorld.Client;
using TypedZmq;

// Usage: dotnet run --project samples/HelloWorld/Client [endpoint]   (default tcp://localhost:5555)
string endpoint = args.Length > 0 ? args[0] : HelloClient.DefaultEndpoint;
try
{
    await HelloClient.RunAsync(endpoint, Console.Out);
}
catch (RpcException ex)
{
    Console.Error.WriteLine($"{ex.Status}: {ex.Message}");
    return 1;
}

return 0;
