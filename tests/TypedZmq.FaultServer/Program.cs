using TypedZmq;
using TypedZmq.FaultServer;

// Usage: TypedZmq.FaultServer ENDPOINT [reply|concurrent] [slow-first] [connect]. Prints READY, serves until killed or
// stdin closes. slow-first: only the first execution of each method takes its delay, so a retry finds the server quick.
// connect: a worker that connects to ENDPOINT (a broker's back end) instead of binding it.
string endpoint = args[0];
RpcServerKind kind = args.Length > 1 && args[1] == "concurrent" ? RpcServerKind.Concurrent : RpcServerKind.Reply;
using var server = new RpcServer(new RpcServerOptions { Endpoint = endpoint, Kind = kind, ConnectToEndpoint = args.Contains("connect") });
server.AddService<ICounter>(new Counter(name: "process " + Environment.ProcessId) { SlowOnlyFirst = args.Contains("slow-first") });
server.Start();
Console.WriteLine("READY " + server.BoundEndpoint);
Console.Out.Flush();
while (Console.In.ReadLine() is not null)
{
}
