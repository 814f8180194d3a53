using TypedZmq;
using TypedZmq.FaultServer;

// Usage: TypedZmq.FaultServer ENDPOINT [reply|concurrent] [slow-first]. Prints READY, serves until killed or stdin closes.
// slow-first: only the first execution of each method takes its delay, so a retry finds the server quick.
string endpoint = args[0];
RpcServerKind kind = args.Length > 1 && args[1] == "concurrent" ? RpcServerKind.Concurrent : RpcServerKind.Reply;
using var server = new RpcServer(new RpcServerOptions { Endpoint = endpoint, Kind = kind });
server.AddService<ICounter>(new Counter(name: "process " + Environment.ProcessId) { SlowOnlyFirst = args.Contains("slow-first") });
server.Start();
Console.WriteLine("READY " + server.BoundEndpoint);
Console.Out.Flush();
while (Console.In.ReadLine() is not null)
{
}
