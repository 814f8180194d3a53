using HelloWorld.Server;

// Usage: dotnet run --project samples/HelloWorld/Server [endpoint]   (default tcp://*:5555; Ctrl+C stops)
string endpoint = args.Length > 0 ? args[0] : GreeterServer.DefaultEndpoint;
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};

using var server = GreeterServer.Start(endpoint, Console.Out);
Console.WriteLine($"Greeter listening on {server.BoundEndpoint}. Press Ctrl+C to stop.");
await server.RunAsync(stop.Token);
