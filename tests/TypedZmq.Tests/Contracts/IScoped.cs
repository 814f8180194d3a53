namespace TypedZmq.Tests.Contracts;

/// <summary>A service for the hosting tests: what a call's DI scope holds, and calls that succeed, fail or wait.</summary>
[RpcService]
public interface IScoped
{
    /// <summary>0: returns the id of the call's scoped dependency; 1: throws; 2: waits for its token (the deadline); 3: waits 500 ms whatever happens.</summary>
    Task<int> WorkAsync(int mode, CancellationToken cancellationToken);
}
