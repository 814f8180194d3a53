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

    /// <summary>The stream benchmark: the text, <paramref name="count"/> times.</summary>
    IAsyncEnumerable<string> Items(string text, int count, CancellationToken cancellationToken);
}

/// <summary>The stream benchmark's producers, for every system alike: how many items they have produced.</summary>
public static class Produced
{
    private static long s_count;

    public static long Count => Interlocked.Read(ref s_count);

    public static void One() => Interlocked.Increment(ref s_count);

    public static async IAsyncEnumerable<string> Items(string text, int count, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        for (int i = 0; i < count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (i % 1024 == 1023)
            {
                await Task.Yield();
            }

            One();
            yield return text;
        }
    }
}

public sealed class Bench : IBench
{
    public IAsyncEnumerable<string> Items(string text, int count, CancellationToken cancellationToken) => Produced.Items(text, count, cancellationToken);

    public string Echo(string text) => text;

    public byte[] EchoBytes(byte[] data) => data;

    public Task<string> EchoAsync(string text) => Task.FromResult(text);
}

/// <summary>The bench call with a wait before each echo: a server bound by something slower than itself.</summary>
public sealed class WaitingBench(TimeSpan wait) : IBench
{
    public IAsyncEnumerable<string> Items(string text, int count, CancellationToken cancellationToken) => Produced.Items(text, count, cancellationToken);

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

    IAsyncEnumerable<string> ItemsAsync(string text, int count, CancellationToken cancellationToken);
}

public sealed class JsonEcho : IJsonEcho
{
    public Task<string> EchoAsync(string text) => Task.FromResult(text);

    public IAsyncEnumerable<string> ItemsAsync(string text, int count, CancellationToken cancellationToken) => Produced.Items(text, count, cancellationToken);
}
