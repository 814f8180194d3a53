using System;

namespace TypedZmq;

/// <summary>Settings for one method of an <see cref="RpcServiceAttribute"/> interface.</summary>
/// <remarks>
/// By default a method's id is the FNV-1a hash of its signature (name and parameter types, see docs/protocol.md), so
/// renaming a method or changing its parameters changes its id. Give an explicit <see cref="Id"/> to keep the wire
/// identity of a method while its C# signature changes, or to resolve a hash collision (TZMQ0009).
/// </remarks>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class RpcMethodAttribute : Attribute
{
    /// <summary>An explicit method id, used on the wire instead of the hash of the method's signature.</summary>
    public uint Id { get; set; }

    /// <summary>
    /// The method may safely run more than once for one call (reads, or writes that set rather than add). An
    /// idempotent call that times out or finds the server unavailable is retried automatically, up to
    /// <see cref="RpcClientOptions.MaxAttempts"/>. Other calls are never re-sent unless the server deduplicates them
    /// (<see cref="RpcServerOptions.ReplyCacheSize"/> with <see cref="RpcClientOptions.RetryNonIdempotentCalls"/>).
    /// </summary>
    public bool Idempotent { get; set; }
}
