using System.Runtime.CompilerServices;

namespace TypedZmq.Tests.Contracts;

/// <summary>Methods that stream their results (docs/streams.md).</summary>
[RpcService]
public interface IStreams
{
    /// <summary>0, 1, 2, ... count - 1.</summary>
    IAsyncEnumerable<int> Count(int count, CancellationToken cancellationToken);

    /// <summary>The text, <paramref name="times"/> times, with no cancellation token.</summary>
    IAsyncEnumerable<string> Repeat(string text, int times);

    /// <summary><paramref name="count"/> items, then an exception with <paramref name="message"/>.</summary>
    IAsyncEnumerable<int> FailAfter(int count, string message);

    /// <summary>0, 1, 2, ... until cancelled, recording how far it got.</summary>
    IAsyncEnumerable<long> Forever(CancellationToken cancellationToken);
}

/// <summary>The streams, with what a test needs to see of the producers.</summary>
public sealed class Streams : IStreams
{
    private long _produced;
    private int _running;
    private int _stopped;

    /// <summary>The highest item <see cref="Forever"/> has produced so far (its producer's progress).</summary>
    public long Produced => Interlocked.Read(ref _produced);

    /// <summary>Producers running now.</summary>
    public int Running => Volatile.Read(ref _running);

    /// <summary>Producers whose token fired (the stream ended on the server: the reader left, the connection or the server went).</summary>
    public int Stopped => Volatile.Read(ref _stopped);

    public async IAsyncEnumerable<int> Count(int count, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        for (int i = 0; i < count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (i % 4096 == 4095)
            {
                await Task.Yield();
            }

            yield return i;
        }
    }

    public async IAsyncEnumerable<string> Repeat(string text, int times)
    {
        for (int i = 0; i < times; i++)
        {
            await Task.Yield();
            yield return text;
        }
    }

    public async IAsyncEnumerable<int> FailAfter(int count, string message)
    {
        for (int i = 0; i < count; i++)
        {
            await Task.Yield();
            yield return i;
        }

        throw new InvalidOperationException(message);
    }

    public async IAsyncEnumerable<long> Forever([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _running);
        using CancellationTokenRegistration registration = cancellationToken.Register(() => Interlocked.Increment(ref _stopped));
        try
        {
            for (long i = 0; ; i++)
            {
                try
                {
                    await Task.Delay(1, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    yield break;
                }

                Interlocked.Exchange(ref _produced, i);
                yield return i;
            }
        }
        finally
        {
            Interlocked.Decrement(ref _running);
        }
    }
}
