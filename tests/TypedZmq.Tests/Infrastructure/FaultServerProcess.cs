namespace TypedZmq.Tests.Infrastructure;

/// <summary>
/// A tests/TypedZmq.FaultServer process (its Program.cs lists the arguments: endpoint, server kind, slow-first, connect,
/// trace, name=...), started and ready to serve, with the endpoint it bound. Dispose the process to kill it.
/// </summary>
public static class FaultServerProcess
{
    public static async Task<(ChildProcess Process, string Endpoint)> StartAsync(params string[] arguments)
    {
        ChildProcess server = ChildProcess.StartDotnet("TypedZmq.FaultServer", arguments);
        try
        {
            string ready = await server.WaitForLineAsync("READY", TimeSpan.FromSeconds(30));
            return (server, ready["READY ".Length..].Trim());
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }
}
