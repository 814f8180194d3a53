using MemoryPack;
using TypedZmq;

namespace HelloWorld.Contracts;

/// <summary>The ZeroMQ guide's hello world, typed: the client says "Hello", the server answers "World".</summary>
[RpcService]
public interface IGreeter
{
    /// <summary>Answers a greeting.</summary>
    /// <param name="greeting">What the client says, for example "Hello".</param>
    /// <returns>The server's answer, "World".</returns>
    string SayHello(string greeting);

    /// <summary>Greets someone several times, asynchronously, with records in and out.</summary>
    /// <param name="request">Whom to greet and how often.</param>
    /// <param name="cancellationToken">Cancels the wait for the reply.</param>
    /// <returns>One line per greeting.</returns>
    Task<Reply> SayHelloAsync(Request request, CancellationToken cancellationToken = default);
}

/// <summary>Whom to greet and how often.</summary>
/// <param name="Name">The name to greet.</param>
/// <param name="Times">How many lines to send back.</param>
[MemoryPackable]
public sealed partial record Request(string Name, int Times);

/// <summary>The greeting lines.</summary>
/// <param name="Lines">One line per greeting.</param>
[MemoryPackable]
public sealed partial record Reply(string[] Lines);
