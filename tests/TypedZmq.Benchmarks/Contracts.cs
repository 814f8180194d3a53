using TypedZmq;

namespace TypedZmq.Benchmarks;

/// <summary>The benchmarked call, typed: a string in, the same string back (the "SayHello" shape).</summary>
[RpcService]
public interface IBench
{
    string Echo(string text);

    Task<string> EchoAsync(string text);

    /// <summary>Bytes in, the same bytes back: what raw NetMQ sends, with no text conversion on either side.</summary>
    byte[] EchoBytes(byte[] data);
}

public sealed class Bench : IBench
{
    public string Echo(string text) => text;

    public byte[] EchoBytes(byte[] data) => data;

    public Task<string> EchoAsync(string text) => Task.FromResult(text);
}

/// <summary>The bench call with a wait before each echo: a server bound by something slower than itself.</summary>
public sealed class WaitingBench(TimeSpan wait) : IBench
{
    public string Echo(string text)
    {
        Thread.Sleep(wait);
        return text;
    }

    public byte[] EchoBytes(byte[] data)
    {
        Thread.Sleep(wait);
        return data;
    }

    public async Task<string> EchoAsync(string text)
    {
        await Task.Delay(wait).ConfigureAwait(false);
        return text;
    }
}

/// <summary>The same call for StreamJsonRpc, which proxies Task-returning interfaces.</summary>
[StreamJsonRpc.JsonRpcContract]
public partial interface IJsonEcho
{
    Task<string> EchoAsync(string text);
}

public sealed class JsonEcho : IJsonEcho
{
    public Task<string> EchoAsync(string text) => Task.FromResult(text);
}
