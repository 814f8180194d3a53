using MemoryPack;

namespace TypedZmq.Tests.Contracts;

/// <summary>One method per supported shape: every return kind, parameter counts, nulls, records, collections.</summary>
[RpcService]
public interface IShapes
{
    void Ping();

    void Remember(string text);

    int Add(int a, int b);

    Task<int> AddAsync(int a, int b);

    string? Echo(string? text);

    Person? FindPerson(int id);

    int[]? Range(int start, int count);

    List<string> Split(string text, char separator);

    Dictionary<string, int> Histogram(string[] words);

    Task RememberAsync(string text);

    Task<int> LengthAsync(string text, CancellationToken cancellationToken);

    ValueTask ForgetAsync();

    ValueTask<Person> RenameAsync(Person person, string name);

    string Fail(string message);

    Task<string> FailAsync(string message);

    string Slow(int milliseconds);

    Task<string> SlowAsync(int milliseconds, CancellationToken cancellationToken);

    /// <summary>Waits without looking at any token: an implementation that ignores the server's stop.</summary>
    Task<string> StubbornAsync(int milliseconds);

    /// <summary>What the server's call context says about this call, read in the implementation before and after an await.</summary>
    Task<CallSeen> DescribeCallAsync(string metadataKey);
}

/// <summary>A call as its implementation saw it through <see cref="RpcCallContext.Current"/>.</summary>
[MemoryPackable]
public sealed partial record CallSeen(
    string Service,
    string Method,
    uint MethodId,
    ulong RequestId,
    int Attempt,
    long? DeadlineUnixMs,
    string? Metadata,
    bool SameContextAfterAwait,
    bool TokenCanBeCancelled,
    string Peer);

/// <summary>A user record serialized by MemoryPack's own generator, from the same assembly as the contract.</summary>
[MemoryPackable]
public sealed partial record Person(string Name, int Age, string[] Tags, Address? Home)
{
    public bool Equals(Person? other) =>
        other is not null && Name == other.Name && Age == other.Age && Tags.SequenceEqual(other.Tags) && Equals(Home, other.Home);

    public override int GetHashCode() => HashCode.Combine(Name, Age, Tags.Length, Home);
}

[MemoryPackable]
public sealed partial record Address(string City, int? Zip);

/// <summary>Same wire name as <see cref="IShapes"/>, plus a method the server does not have: a newer client.</summary>
[RpcService("TypedZmq.Tests.Contracts.IShapes")]
#pragma warning disable TZMQ0012 // Deliberate: this plays a newer version of IShapes, which in real life lives in another build.
public interface IShapesNext
#pragma warning restore TZMQ0012
{
    int Add(int a, int b);

    string AddedLater(string text);
}

/// <summary>A service that no test server hosts.</summary>
[RpcService]
public interface INotHosted
{
    void Ping();
}

/// <summary>Not marked [RpcService]: nothing is generated for it.</summary>
public interface INotAService
{
    void Ping();
}
