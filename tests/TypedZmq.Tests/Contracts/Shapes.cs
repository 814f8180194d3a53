using System.Collections.Concurrent;

namespace TypedZmq.Tests.Contracts;

/// <summary>The test implementation of <see cref="IShapes"/>; counts what it ran so tests can assert executions.</summary>
public sealed class Shapes : IShapes
{
    private int _pings;
    private int _adds;
    private int _slowStarted;
    private int _slowRunning;
    private int _maxSlowRunning;
    private int _stubbornStarted;
    private int _stubbornFinished;

    public ConcurrentQueue<string> Remembered { get; } = new();

    public int Pings => Volatile.Read(ref _pings);

    public int Adds => Volatile.Read(ref _adds);

    public int Forgets { get; private set; }

    /// <summary>How many Slow/SlowAsync calls have started running: lets tests wait until a call is really in flight.</summary>
    public int SlowStarted => Volatile.Read(ref _slowStarted);

    /// <summary>The most SlowAsync calls that were running at the same moment: proof of concurrency without timing.</summary>
    public int MaxSlowRunning => Volatile.Read(ref _maxSlowRunning);

    /// <summary>How many SlowAsync calls are running now.</summary>
    public int SlowRunning => Volatile.Read(ref _slowRunning);

    /// <summary>How many StubbornAsync calls have started, and how many have finished their wait.</summary>
    public int StubbornStarted => Volatile.Read(ref _stubbornStarted);

    public int StubbornFinished => Volatile.Read(ref _stubbornFinished);

    public void Ping() => Interlocked.Increment(ref _pings);

    public void Remember(string text) => Remembered.Enqueue(text);

    public int Add(int a, int b)
    {
        Interlocked.Increment(ref _adds);
        return a + b;
    }

    public async Task<int> AddAsync(int a, int b)
    {
        await Task.Yield();
        return Add(a, b);
    }

    public string? Echo(string? text) => text;

    public Person? FindPerson(int id) =>
        id == 1 ? new Person("Ada", 36, ["math", "engines"], new Address("London", null)) : null;

    public int[]? Range(int start, int count) => count < 0 ? null : Enumerable.Range(start, count).ToArray();

    public List<string> Split(string text, char separator) => [.. text.Split(separator)];

    public Dictionary<string, int> Histogram(string[] words) =>
        words.GroupBy(w => w).ToDictionary(g => g.Key, g => g.Count());

    public async Task RememberAsync(string text)
    {
        await Task.Yield();
        Remembered.Enqueue(text);
    }

    public async Task<int> LengthAsync(string text, CancellationToken cancellationToken)
    {
        await Task.Delay(1, cancellationToken);
        return text.Length;
    }

    public ValueTask ForgetAsync()
    {
        Remembered.Clear();
        Forgets++;
        return default;
    }

    public async ValueTask<Person> RenameAsync(Person person, string name)
    {
        await Task.Yield();
        return person with { Name = name };
    }

    public string Fail(string message) => throw new InvalidOperationException(message);

    public async Task<string> FailAsync(string message)
    {
        await Task.Yield();
        throw new ArgumentException(message, "message");
    }

    public string Slow(int milliseconds)
    {
        Interlocked.Increment(ref _slowStarted);
        Thread.Sleep(milliseconds);
        return "slow";
    }

    public async Task<string> SlowAsync(int milliseconds, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _slowStarted);
        int running = Interlocked.Increment(ref _slowRunning);
        int max;
        while (running > (max = Volatile.Read(ref _maxSlowRunning)) && Interlocked.CompareExchange(ref _maxSlowRunning, running, max) != max)
        {
        }

        try
        {
            await Task.Delay(milliseconds, cancellationToken);
            return "slow";
        }
        finally
        {
            Interlocked.Decrement(ref _slowRunning);
        }
    }

    public async Task<string> StubbornAsync(int milliseconds)
    {
        Interlocked.Increment(ref _stubbornStarted);
        await Task.Delay(milliseconds);
        Interlocked.Increment(ref _stubbornFinished);
        return "stubborn";
    }

    public async Task<CallSeen> DescribeCallAsync(string metadataKey)
    {
        RpcCallContext before = RpcCallContext.Current ?? throw new InvalidOperationException("no call context");
        await Task.Yield();
        RpcCallContext after = RpcCallContext.Current ?? throw new InvalidOperationException("no call context after await");
        return new CallSeen(
            after.ServiceName,
            after.MethodName,
            after.MethodId,
            after.RequestId,
            after.Attempt,
            after.Deadline?.ToUnixTimeMilliseconds(),
            after.RequestMetadata.GetString(metadataKey),
            ReferenceEquals(before, after),
            after.CancellationToken.CanBeCanceled,
            after.Peer.ToString());
    }
}
