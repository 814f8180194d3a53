namespace TypedZmq.Tests.Infrastructure;

/// <summary>A discovery source a test drives: it answers whatever was set last, and counts how often it was asked.</summary>
public sealed class SettableResolver(params string[] endpoints) : IRpcEndpointResolver
{
    private volatile string[] _endpoints = endpoints;
    private int _asked;

    public int Asked => Volatile.Read(ref _asked);

    public void Set(params string[] endpoints) => _endpoints = endpoints;

    public ValueTask<IReadOnlyCollection<string>> ResolveAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _asked);
        return ValueTask.FromResult<IReadOnlyCollection<string>>(_endpoints);
    }
}
