namespace TypedZmq.FaultServer;

/// <summary>A counter whose executions the reliability tests count, to check what each delivery semantic promises.</summary>
[RpcService]
public interface ICounter
{
    /// <summary>Reads the value. Idempotent: running it twice is harmless, so clients retry it.</summary>
    /// <param name="delayMilliseconds">How long the server takes (asynchronously).</param>
    /// <returns>The value.</returns>
    [RpcMethod(Idempotent = true)]
    Task<int> GetAsync(int delayMilliseconds);

    /// <summary>Adds one. Not idempotent: running it twice counts twice.</summary>
    /// <param name="delayMilliseconds">How long the server takes (asynchronously).</param>
    /// <returns>The new value.</returns>
    Task<int> IncrementAsync(int delayMilliseconds);

    /// <summary>Which server process answered (for failover tests).</summary>
    /// <returns>The server's name.</returns>
    [RpcMethod(Idempotent = true)]
    string Name();

    /// <summary>Which server process answered, after a delay (for the scale-out tests' load).</summary>
    /// <param name="delayMilliseconds">How long the server takes (asynchronously).</param>
    /// <returns>The server's name.</returns>
    [RpcMethod(Idempotent = true)]
    Task<string> NameAsync(int delayMilliseconds);

    /// <summary>Which attempt of its call the server saw this request as (<see cref="RpcCallContext.Attempt"/>).</summary>
    /// <param name="delayMilliseconds">How long the server takes (asynchronously).</param>
    /// <returns>The attempt number.</returns>
    [RpcMethod(Idempotent = true)]
    Task<int> LastAttemptAsync(int delayMilliseconds);

    /// <summary>Returns its argument: a string parameter for the hostile-payload tests.</summary>
    /// <param name="text">Any text.</param>
    /// <returns>The same text.</returns>
    string Echo(string text);
}

/// <summary>The implementation, with counts of what ran.</summary>
public sealed class Counter(string name = "counter") : ICounter
{
    private int _value;
    private int _gets;
    private int _increments;
    private int _names;

    public int Gets => Volatile.Read(ref _gets);

    public int Increments => Volatile.Read(ref _increments);

    public int Names => Volatile.Read(ref _names);

    /// <summary>Delay only the first execution of each method, so a retry finds the server quick.</summary>
    public bool SlowOnlyFirst { get; init; }

    /// <summary>Told "Method delay" when a Get or Increment starts (a process prints it, so a test knows where a call runs).</summary>
    public Action<string>? Started { get; init; }

    public async Task<int> GetAsync(int delayMilliseconds)
    {
        int run = Interlocked.Increment(ref _gets);
        Started?.Invoke("GetAsync " + delayMilliseconds);
        await Delay(delayMilliseconds, run);
        return Volatile.Read(ref _value);
    }

    public async Task<int> IncrementAsync(int delayMilliseconds)
    {
        int run = Interlocked.Increment(ref _increments);
        Started?.Invoke("IncrementAsync " + delayMilliseconds);
        await Delay(delayMilliseconds, run);
        return Interlocked.Increment(ref _value);
    }

    public string Name()
    {
        Interlocked.Increment(ref _names);
        return name;
    }

    public string Echo(string text) => text;

    public async Task<string> NameAsync(int delayMilliseconds)
    {
        if (delayMilliseconds > 0)
        {
            await Task.Delay(delayMilliseconds);
        }

        return name;
    }

    public async Task<int> LastAttemptAsync(int delayMilliseconds)
    {
        int attempt = RpcCallContext.Current!.Attempt;
        await Delay(delayMilliseconds, attempt);
        return attempt;
    }

    private Task Delay(int milliseconds, int run) =>
        milliseconds > 0 && (!SlowOnlyFirst || run == 1) ? Task.Delay(milliseconds) : Task.CompletedTask;
}
