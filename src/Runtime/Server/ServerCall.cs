using System;
using System.Buffers;
using TypedZmq.Internal;
using TypedZmq.Protocol;
using TypedZmq.Security;

namespace TypedZmq.Server;

/// <summary>
/// One request between the moment a server loop read it and the moment its reply is sent: what generated code reads
/// and completes (<see cref="Call"/>), what implementations and interceptors see (<see cref="Context"/>), and the
/// request's header for the reply. Pooled by <see cref="RequestHandler"/>; transport state stays with the loop.
/// </summary>
internal sealed class ServerCall
{
    private byte[]? _argumentsCopy;

    public RpcServerCall Call { get; } = new();

    public RpcCallContext Context { get; set; } = null!;

    public RpcHeader Request { get; set; }

    /// <summary>The interceptors this call runs through (null: straight to the dispatcher), chosen when it starts.</summary>
    public RpcServerContinuation? Pipeline { get; set; }

    /// <summary>Who may cancel the call while it runs (the client key, or the connection); null when it is not running.</summary>
    public object? Owner { get; set; }

    /// <summary>The connection the request came on, while it runs (the loop's peer).</summary>
    public RpcPeer? Connection { get; set; }

    /// <summary>In secure mode, the client whose key sealed the request: its reply is sealed for it.</summary>
    public ServerGate.Client? Client { get; set; }

    /// <summary>
    /// Keeps the arguments in a buffer of the call's own, for when the dispatcher may read them after the request frame
    /// is closed (an interceptor that awaits before it calls next).
    /// </summary>
    public ReadOnlyMemory<byte> OwnArguments(ReadOnlySpan<byte> arguments)
    {
        _argumentsCopy = ArrayPool<byte>.Shared.Rent(Math.Max(arguments.Length, 1));
        arguments.CopyTo(_argumentsCopy);
        return _argumentsCopy.AsMemory(0, arguments.Length);
    }

    public void Reset()
    {
        Call.ReleaseArguments();
        if (_argumentsCopy is not null)
        {
            ArrayPool<byte>.Shared.Return(_argumentsCopy);
            _argumentsCopy = null;
        }

        Context = null!;
        Client = null;
        Pipeline = null;
        Owner = null;
        Connection = null;
    }
}
