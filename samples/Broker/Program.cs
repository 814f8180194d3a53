// Usage: dotnet run --project samples/Broker [frontend] [backend]   (default tcp://*:5555 and tcp://*:5556; Ctrl+C stops)
// Clients call the front end as they would call one server; workers are RpcServers with ConnectToEndpoint = true on
// the back end, and may come and go while the broker runs (docs/scaling.md, "Workers behind a broker").
using var stop = new ManualResetEventSlim();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Set();
};

using var broker = new Broker.Broker(args.Length > 0 ? args[0] : "tcp://*:5555", args.Length > 1 ? args[1] : "tcp://*:5556");
broker.Start();
Console.WriteLine($"Broker: clients on {broker.FrontendEndpoint}, workers on {broker.BackendEndpoint}. Press Ctrl+C to stop.");
stop.Wait();
