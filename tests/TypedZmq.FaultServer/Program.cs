using TypedZmq;
using TypedZmq.FaultServer;

// Usage: TypedZmq.FaultServer ENDPOINT [reply|concurrent] [slow-first] [connect] [trace] [name=NAME]. Prints READY and
// the bound endpoint, serves until killed or stdin closes. slow-first: only the first execution of each method takes
// its delay, so a retry finds the server quick. connect: a worker that connects to ENDPOINT (a broker's back end)
// instead of binding it. trace: prints "CALL Method delay" when a Get or Increment starts. name: what Name answers
// (default "process PID").
string endpoint = args[0];
RpcServerKind kind = args.Length > 1 && args[1] == "concurrent" ? RpcServerKind.Concurrent : RpcServerKind.Reply;
string name = args.FirstOrDefault(a => a.StartsWith("name=", StringComparison.Ordinal))?["name=".Length..] ?? "process " + Environment.ProcessId;
Action<string>? started = args.Contains("trace") ? line => Console.WriteLine("CALL " + line) : null;
using var server = new RpcServer(new RpcServerOptions { Endpoint = endpoint, Kind = kind, ConnectToEndpoint = args.Contains("connect") });
server.AddService<ICounter>(new Counter(name) { SlowOnlyFirst = args.Contains("slow-first"), Started = started });
server.Start();
Console.WriteLine("READY " + server.BoundEndpoint);
Console.Out.Flush();
while (Console.In.ReadLine() is not null)
{
}
