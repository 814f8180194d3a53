using MemoryPack;
using TypedZmq;

namespace Compat;

/// <summary>
/// A representative contract of TypedZmq 0.2 (every method shape and a record), whose generated code is checked in
/// beside it as that release emitted it.
/// </summary>
[RpcService]
public interface ICatalog
{
    string Echo(string text);

    void Touch(int id);

    Task Reset();

    Task<Product> FindAsync(int id, CancellationToken cancellationToken);

    ValueTask<int> CountAsync(string[] names);

    [RpcMethod(Idempotent = true)]
    long Sum(int a, long b);
}

[MemoryPackable]
public sealed partial record Product(int Id, string Name, decimal Price, List<string> Tags);
