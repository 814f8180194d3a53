using System;
using System.ComponentModel;
using System.Threading;
using System.Threading.Tasks;
using TypedZmq.Protocol;

namespace TypedZmq.Internal;

/// <summary>
/// One request being served: generated dispatchers read its arguments in order and complete it with the result.
/// Not for direct use: part of the contract between generated code and the runtime.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class RpcServerCall
{
    private readonly PayloadBuffer _result = new();
    private ReadOnlyMemory<byte> _arguments;
    private int _offset;
    private int _argumentIndex;
    private string _serviceName = "";
    private bool _argumentsChecked;
    private RpcCallContext? _context;

    // Streams: the server's open streams, who this call's client is, and whether the call is a pull of one.
    private Server.ServerStreams? _streams;
    private object? _streamOwner;
    private RpcPeer? _connection;
    private ulong _requestId;

    /// <summary>The most items one pull may ask for.</summary>
    internal const int MaxStreamCredit = 65_536;

    /// <summary>The call's context (null only for calls made outside a server, in tests).</summary>
    internal RpcCallContext? Context => _context;
    private bool _captureResult;

    internal RpcServerCall()
    {
    }

    /// <summary>The id of the method being called.</summary>
    public uint MethodId { get; private set; }

    /// <summary>
    /// Cancelled when the call's deadline passes or the server stops; pass it to implementations that take a
    /// <see cref="System.Threading.CancellationToken"/>.
    /// </summary>
    public CancellationToken CancellationToken => _context?.CancellationToken ?? default;

    internal ReadOnlySpan<byte> Result => _result.WrittenSpan;

    /// <summary>
    /// Checks the whole request payload against the method's argument schemas before any argument is read, so that
    /// MemoryPack never reads a hostile length prefix. Generated dispatchers call it first in every method.
    /// </summary>
    /// <param name="method">The method being called, with its argument schemas.</param>
    /// <exception cref="RpcException">With <see cref="RpcStatus.BadRequest"/> when the payload does not fit the schemas.</exception>
    public void CheckArguments(RpcMethod method)
    {
        ArgumentNullException.ThrowIfNull(method);
        _argumentsChecked = true;
        if (method.ArgumentsNeedWalk && PayloadCheck.Check(_arguments.Span, method.ArgumentSchemas, "argument") is { } malformed)
        {
            throw new RpcException(
                RpcStatus.BadRequest,
                $"the request to {method} was refused before decoding: {malformed}. " +
                "Client and server were probably built from different versions of the contract, or the peer is not a TypedZmq client.");
        }
    }

    /// <summary>Reads the next argument.</summary>
    /// <typeparam name="T">The parameter's declared type.</typeparam>
    /// <returns>The decoded argument.</returns>
    /// <exception cref="RpcException">With <see cref="RpcStatus.BadRequest"/> when the payload does not hold such a value.</exception>
    public T Read<T>()
    {
        if (!_argumentsChecked)
        {
            // A dispatcher generated before CheckArguments existed: check what can be checked without schemas.
            _argumentsChecked = true;
            if (PayloadCheck.Check(_arguments.Span, schemas: null, "argument") is { } malformed)
            {
                throw new RpcException(RpcStatus.BadRequest, $"method 0x{MethodId:x8} on {_serviceName}: {malformed}.");
            }
        }

        _argumentIndex++;
        try
        {
            return PayloadCodec.ReadValue<T>(_arguments.Span, ref _offset)!;
        }
        catch (Exception ex)
        {
            throw new RpcException(
                RpcStatus.BadRequest,
                $"argument {_argumentIndex} of method 0x{MethodId:x8} on {_serviceName} could not be decoded as {typeof(T)} ({ex.Message}). " +
                "Client and server were probably built from different versions of the contract.",
                ex);
        }
    }

    /// <summary>Checks that every byte of the payload was consumed by the arguments.</summary>
    /// <exception cref="RpcException">With <see cref="RpcStatus.BadRequest"/> when bytes are left over.</exception>
    public void EndArguments()
    {
        if (_offset != _arguments.Length)
        {
            throw new RpcException(
                RpcStatus.BadRequest,
                $"the request payload has {_arguments.Length - _offset} bytes left after the {_argumentIndex} argument(s) " +
                $"of method 0x{MethodId:x8} on {_serviceName}. Client and server were probably built from different versions of the contract.");
        }
    }

    /// <summary>Completes a call whose method returns nothing.</summary>
    /// <returns>A completed value task.</returns>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1822", Justification = "Generated dispatchers call it on the call: part of the shipped generated-code contract.")]
    public ValueTask Complete() => default;

    /// <summary>Completes a call with its result.</summary>
    /// <typeparam name="T">The method's return type.</typeparam>
    /// <param name="result">The result to send back.</param>
    /// <returns>A completed value task.</returns>
    public ValueTask Complete<T>(T result)
    {
        WriteResult(result);
        return default;
    }

    /// <summary>Completes a call when the implementation's task completes.</summary>
    /// <param name="task">The implementation's task.</param>
    /// <returns>A value task that completes with <paramref name="task"/>.</returns>
    public ValueTask CompleteAsync(Task task)
    {
        ThrowIfNullTask(task);
        return task.IsCompletedSuccessfully ? default : new ValueTask(task);
    }

    /// <summary>Completes a call with the result of the implementation's task.</summary>
    /// <typeparam name="T">The task's result type.</typeparam>
    /// <param name="task">The implementation's task.</param>
    /// <returns>A value task that completes once the result is written.</returns>
    public ValueTask CompleteAsync<T>(Task<T> task)
    {
        ThrowIfNullTask(task);
        if (task.IsCompletedSuccessfully)
        {
            WriteResult(task.Result);
            return default;
        }

        return AwaitAndWrite(task);
    }

    /// <summary>Completes a call when the implementation's value task completes.</summary>
    /// <param name="task">The implementation's value task.</param>
    /// <returns>The same value task.</returns>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1822", Justification = "Generated dispatchers call it on the call: part of the shipped generated-code contract.")]
    public ValueTask CompleteAsync(ValueTask task) => task;

    /// <summary>Completes a call with the result of the implementation's value task.</summary>
    /// <typeparam name="T">The value task's result type.</typeparam>
    /// <param name="task">The implementation's value task.</param>
    /// <returns>A value task that completes once the result is written.</returns>
    public ValueTask CompleteAsync<T>(ValueTask<T> task)
    {
        if (task.IsCompletedSuccessfully)
        {
            WriteResult(task.Result);
            return default;
        }

        return AwaitAndWrite(task);
    }

    /// <summary>
    /// Opens a stream: a method returning <see cref="System.Collections.Generic.IAsyncEnumerable{T}"/>. The producer is
    /// started with the stream's own token, which fires when the client stops reading, its connection ends, the stream
    /// stays unread too long or the server stops; the client then pulls the items in chunks (docs/streams.md).
    /// </summary>
    /// <typeparam name="T">The item type.</typeparam>
    /// <param name="open">Calls the implementation with the stream's token.</param>
    /// <returns>A completed value task: the reply says the stream is open.</returns>
    /// <exception cref="RpcException">With <see cref="RpcStatus.Unavailable"/> when the server's stream limits are reached.</exception>
    public ValueTask OpenStreamAsync<T>(Func<CancellationToken, System.Collections.Generic.IAsyncEnumerable<T>> open)
    {
        ArgumentNullException.ThrowIfNull(open);
        if (_streams is null || _streamOwner is null || _connection is null)
        {
            throw new RpcException(RpcStatus.Internal, "streams are served by an RpcServer; this call was not made through one.");
        }

        _streams.Open(_streamOwner, _connection, _requestId, open);
        WriteResult<(bool, T[])>((true, Array.Empty<T>()));
        return default;
    }

    /// <summary>
    /// Opens a client stream: a method with an <see cref="System.Collections.Generic.IAsyncEnumerable{T}"/> parameter
    /// that returns a result. The implementation starts now, reading the items the client pushes (docs/streams.md);
    /// the reply to the client's last push carries its result.
    /// </summary>
    /// <typeparam name="TItem">The stream's item type.</typeparam>
    /// <typeparam name="TResult">The method's result type.</typeparam>
    /// <param name="push">The descriptor of the method's pushes, with their payload layout.</param>
    /// <param name="run">Calls the implementation with the items and the stream's token.</param>
    /// <returns>A completed value task: the reply says the stream is open.</returns>
    public ValueTask OpenClientStreamAsync<TItem, TResult>(RpcMethod push, Func<System.Collections.Generic.IAsyncEnumerable<TItem>, CancellationToken, ValueTask<TResult>> run)
    {
        ArgumentNullException.ThrowIfNull(run);
        return OpenInbound<TItem>(push, async (items, token) => (object?)await run(items, token).ConfigureAwait(false), writeResult: static (call, result) => call.WriteResult((TResult)result!));
    }

    /// <summary>Opens a client stream whose method returns nothing (see <see cref="OpenClientStreamAsync{TItem, TResult}"/>).</summary>
    /// <typeparam name="TItem">The stream's item type.</typeparam>
    /// <param name="push">The descriptor of the method's pushes, with their payload layout.</param>
    /// <param name="run">Calls the implementation with the items and the stream's token.</param>
    /// <returns>A completed value task: the reply says the stream is open.</returns>
    public ValueTask OpenClientStreamAsync<TItem>(RpcMethod push, Func<System.Collections.Generic.IAsyncEnumerable<TItem>, CancellationToken, ValueTask> run)
    {
        ArgumentNullException.ThrowIfNull(run);
        return OpenInbound<TItem>(push, async (items, token) =>
        {
            await run(items, token).ConfigureAwait(false);
            return null;
        }, writeResult: null);
    }

    private ValueTask OpenInbound<TItem>(RpcMethod push, Func<System.Collections.Generic.IAsyncEnumerable<TItem>, CancellationToken, Task<object?>> run, Action<RpcServerCall, object?>? writeResult)
    {
        ArgumentNullException.ThrowIfNull(push);
        if (_streams is null || _streamOwner is null || _connection is null)
        {
            throw new RpcException(RpcStatus.Internal, "streams are served by an RpcServer; this call was not made through one.");
        }

        _streams.OpenInbound(_streamOwner, _connection, _requestId, push, run, writeResult);
        return default;
    }

    /// <summary>Whether the call is a pull of an open stream rather than a call of its method.</summary>
    internal bool IsStreamPull { get; private set; }

    /// <summary>Whether the call is a push of a client stream's items.</summary>
    internal bool IsStreamPush { get; private set; }

    internal void SetStream(Server.ServerStreams streams, object owner, RpcPeer connection, ulong requestId, bool pull, bool push)
    {
        _streams = streams;
        _streamOwner = owner;
        _connection = connection;
        _requestId = requestId;
        IsStreamPull = pull;
        IsStreamPush = push;
    }

    /// <summary>Serves a push: its payload is the stream's id (uint64), then <c>(bool end, T[] items)</c>.</summary>
    internal ValueTask PushStreamAsync()
    {
        ReadOnlyMemory<byte> payload = _arguments;
        if (payload.Length < 8)
        {
            throw new RpcException(RpcStatus.BadRequest, $"a stream push starts with the stream's 8-byte id, but carries {payload.Length} bytes; see docs/protocol.md, \"Streams\".");
        }

        ulong id = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(payload.Span);
        Server.ServerStream stream = _streams?.Find(_streamOwner!, id) ?? throw Server.ServerStream.NotOpen(id);
        return stream.PushAsync(this, payload.Slice(8));
    }

    /// <summary>Starts a stream chunk, <c>(bool more, T[] items)</c>, as the result: the items follow one by one.</summary>
    internal void BeginChunk()
    {
        _result.Reset();
        _result.GetSpan(5).Slice(0, 5).Clear(); // more, then the item count: patched by EndChunk
        _result.Advance(5);
    }

    /// <summary>Appends one item to the chunk (MemoryPack writes an array as its count, then each item as it writes one alone).</summary>
    internal void AppendItem<T>(T item) => PayloadCodec.WriteValue(_result, item);

    /// <summary>The bytes the chunk holds so far.</summary>
    internal int ChunkBytes => _result.WrittenCount;

    /// <summary>Ends the chunk: whether more may follow, and how many items it holds.</summary>
    internal void EndChunk(bool more, int count)
    {
        Span<byte> chunk = _result.Written;
        chunk[0] = more ? (byte)1 : (byte)0;
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(chunk.Slice(1), count);
    }

    /// <summary>Writes a result decided outside the generated dispatcher (a client stream's method result).</summary>
    internal void WriteResultOf(Action<RpcServerCall, object?> writeResult, object? result) => writeResult(this, result);

    /// <summary>Serves a pull: its payload is the stream's id (uint64) and the credit (int32, 1 to 65,536 items).</summary>
    internal ValueTask PullStreamAsync()
    {
        ReadOnlySpan<byte> payload = _arguments.Span;
        if (payload.Length != 12)
        {
            throw new RpcException(RpcStatus.BadRequest, $"a stream pull carries 12 bytes (stream id, credit), not {payload.Length}; see docs/protocol.md, \"Streams\".");
        }

        ulong id = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(payload);
        int credit = System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(payload.Slice(8));
        if (credit is < 0 or > MaxStreamCredit)
        {
            throw new RpcException(RpcStatus.BadRequest, $"a stream pull asks for {credit} items; the credit is 0 (close) to {MaxStreamCredit}.");
        }

        if (credit == 0)
        {
            // The client stops reading: the stream ends (its producer's token fires), even while a pull waits for items.
            _streams?.End(_streamOwner!, id);
            WriteResult<(bool, byte[])>((false, Array.Empty<byte>())); // an empty final chunk reads the same whatever the item type
            return default;
        }

        Server.ServerStream stream = _streams?.Find(_streamOwner!, id) ?? throw Server.ServerStream.NotOpen(id);
        return stream.PullAsync(this, credit);
    }

    /// <summary>Fails the call because the service has no method with <see cref="MethodId"/>.</summary>
    /// <returns>Never returns.</returns>
    /// <exception cref="RpcException">Always, with <see cref="RpcStatus.Unimplemented"/>.</exception>
    public ValueTask UnknownMethod() =>
        throw new RpcException(
            RpcStatus.Unimplemented,
            $"{_serviceName} has no method with id 0x{MethodId:x8} on this server. " +
            "The client was probably built from a newer contract than the server; deploy the server with the same contract.");

    internal void Begin(uint methodId, string serviceName, ReadOnlyMemory<byte> arguments, RpcCallContext? context, bool captureResult)
    {
        MethodId = methodId;
        _serviceName = serviceName;
        _arguments = arguments;
        _offset = 0;
        _argumentIndex = 0;
        _argumentsChecked = false;
        _result.Reset();
        _context = context;
        _captureResult = captureResult;
        _streams = null;
        _streamOwner = null;
        _connection = null;
        IsStreamPull = false;
        IsStreamPush = false;
    }

    /// <summary>Drops the reference to the request payload once the arguments are decoded (its frame is closed).</summary>
    internal void ReleaseArguments() => _arguments = default;

    private void WriteResult<T>(T result)
    {
        if (_captureResult && _context is not null)
        {
            _context.Result = result; // for interceptors, which see the outcome after the call
        }

        try
        {
            PayloadCodec.WriteValue(_result, result);
        }
        catch (Exception ex)
        {
            throw new RpcException(
                RpcStatus.Internal,
                $"the result of method 0x{MethodId:x8} on {_serviceName} could not be encoded as {typeof(T)} ({ex.Message}).",
                ex);
        }
    }

    private void ThrowIfNullTask(Task? task)
    {
        if (task is null)
        {
            throw new RpcException(
                RpcStatus.Internal,
                $"the implementation of method 0x{MethodId:x8} on {_serviceName} returned a null Task; return a completed task instead.");
        }
    }

    private async ValueTask AwaitAndWrite<T>(Task<T> task) => WriteResult(await task.ConfigureAwait(false));

    private async ValueTask AwaitAndWrite<T>(ValueTask<T> task) => WriteResult(await task.ConfigureAwait(false));
}
