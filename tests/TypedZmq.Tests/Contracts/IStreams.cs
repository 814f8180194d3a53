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

    /// <summary>A client stream: the label, then the sum and count of every value sent.</summary>
    Task<string> Sum(string label, IAsyncEnumerable<int> values, CancellationToken cancellationToken);

    /// <summary>A client stream with no result: remembers the values.</summary>
    Task Collect(IAsyncEnumerable<string> values);

    /// <summary>A client stream whose implementation throws after <paramref name="after"/> values.</summary>
    ValueTask<int> FailAfterReading(int after, IAsyncEnumerable<int> values);

    /// <summary>A client stream whose implementation returns the first value without reading the others.</summary>
    Task<int> TakeFirst(IAsyncEnumerable<int> values);

    /// <summary>One item, after <paramref name="milliseconds"/>: a quiet stream.</summary>
    IAsyncEnumerable<int> After(int milliseconds, CancellationToken cancellationToken);

    /// <summary>A hand-written producer: <paramref name="count"/> items, then MoveNextAsync throws at once (not in its task).</summary>
    IAsyncEnumerable<int> ThrowsAtOnce(int count);
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

    /// <summary>Producers that ended with their token fired (the stream ended on the server: the reader left, the connection or the server went).</summary>
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

    /// <summary>What <see cref="Collect"/> received last.</summary>
    public IReadOnlyList<string> Collected { get; private set; } = [];

    /// <summary>Client streams whose method ended with its token fired.</summary>
    public int ClientStreamsEnded => Volatile.Read(ref _clientStreamsEnded);

    private int _clientStreamsEnded;

    public async Task<string> Sum(string label, IAsyncEnumerable<int> values, CancellationToken cancellationToken)
    {
        long sum = 0;
        int count = 0;
        try
        {
            await foreach (int value in values)
            {
                sum += value;
                count++;
            }
        }
        finally
        {
            // Counted as the method ends, not from a token callback: the method's own end would race with that.
            if (cancellationToken.IsCancellationRequested)
            {
                Interlocked.Increment(ref _clientStreamsEnded);
            }
        }

        return $"{label}: {count} values, sum {sum}";
    }

    public async Task Collect(IAsyncEnumerable<string> values)
    {
        var all = new List<string>();
        await foreach (string value in values)
        {
            all.Add(value);
        }

        Collected = all;
    }

    public async ValueTask<int> FailAfterReading(int after, IAsyncEnumerable<int> values)
    {
        int read = 0;
        await foreach (int value in values)
        {
            if (++read == after)
            {
                throw new InvalidOperationException($"stopped after {read} values");
            }
        }

        return read;
    }

    public IAsyncEnumerable<int> ThrowsAtOnce(int count) => new ThrowingProducer(count);

    public async Task<int> TakeFirst(IAsyncEnumerable<int> values)
    {
        await foreach (int value in values)
        {
            return value;
        }

        return -1;
    }

    public async IAsyncEnumerable<int> After(int milliseconds, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await Task.Delay(milliseconds, cancellationToken);
        yield return 1;
    }

    public async IAsyncEnumerable<long> Forever([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _running);
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
            // Counted as the producer ends (cancelled, or disposed after its token fired), not from a token callback,
            // which the producer's own end would race with.
            if (cancellationToken.IsCancellationRequested)
            {
                Interlocked.Increment(ref _stopped);
            }

            Interlocked.Decrement(ref _running);
        }
    }
}

/// <summary>A producer that throws from MoveNextAsync itself, as hand-written enumerators may.</summary>
internal sealed class ThrowingProducer(int count) : IAsyncEnumerable<int>, IAsyncEnumerator<int>
{
    public int Current { get; private set; } = -1;

    public IAsyncEnumerator<int> GetAsyncEnumerator(CancellationToken cancellationToken = default) => this;

    public ValueTask<bool> MoveNextAsync() =>
        ++Current < count ? new ValueTask<bool>(true) : throw new InvalidOperationException("thrown at once");

    public ValueTask DisposeAsync() => default;
}
