using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using TypedZmq.Protocol;

namespace TypedZmq.Server;

/// <summary>
/// The streams open on one server (docs/streams.md): methods returning <c>IAsyncEnumerable&lt;T&gt;</c> whose client
/// pulls their items in chunks. Each is known by who opened it (the client key in secure mode, else the connection) and
/// the request id that opened it. Bounded in all and per owner; a stream nobody pulls for
/// <see cref="RpcServerOptions.StreamIdleTimeout"/> is ended; a lost connection and a stopping server end theirs.
/// Used from the loop thread and from the pulls' continuations, so it is thread-safe.
/// </summary>
internal sealed class ServerStreams : IDisposable
{
    private readonly RpcServerOptions _options;
    private readonly ConcurrentDictionary<(object Owner, ulong Id), ServerStream> _open = new();
    private readonly ConcurrentDictionary<object, int> _perOwner = new();
    private readonly Timer _idleCheck;
    private readonly CancellationToken _serverStopping;
    private int _count;
    private volatile bool _closed;

    public ServerStreams(RpcServerOptions options, CancellationToken serverStopping)
    {
        _options = options;
        _serverStopping = serverStopping;
        TimeSpan period = TimeSpan.FromTicks(Math.Clamp(options.StreamIdleTimeout.Ticks / 4, TimeSpan.TicksPerMillisecond * 10, TimeSpan.TicksPerSecond));
        _idleCheck = new Timer(static state => ((ServerStreams)state!).EndIdle(), this, period, period);
    }

    /// <summary>Streams open now (for tests and diagnostics).</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>
    /// How long a pull waits for the producer's next item before it is answered with an empty chunk (more to come):
    /// a waiting pull is never left unanswered long, so a client can give pulls a timeout and a server notices a
    /// client that went away. Half the idle timeout, at most 30 s.
    /// </summary>
    public TimeSpan KeepAlive => TimeSpan.FromTicks(Math.Min(_options.StreamIdleTimeout.Ticks / 2, TimeSpan.TicksPerSecond * 30));

    /// <summary>A chunk stops growing past this many bytes, whatever the credit: half of MaxMessageSize, at most 4 MiB.</summary>
    public int ChunkLimit => (int)Math.Min(_options.MaxMessageSize / 2, 4 * 1024 * 1024);

    /// <summary>
    /// Opens a stream: checks the bounds, starts the producer with a token that fires when the stream ends for any
    /// reason, and registers it.
    /// </summary>
    public void Open<T>(object owner, RpcPeer connection, ulong id, Func<CancellationToken, IAsyncEnumerable<T>> open)
    {
        Reserve(owner);

        var stream = new ServerStream<T>(this, owner, connection, id);
        try
        {
            stream.Start(open);
        }
        catch
        {
            Release(owner);
            stream.Dispose();
            throw;
        }

        if (!_open.TryAdd((owner, id), stream))
        {
            Release(owner);
            stream.End();
            throw new RpcException(RpcStatus.BadRequest, $"a stream with id {id} is already open for this client; the request was not run.");
        }
    }

    /// <summary>
    /// Opens a client stream: checks the bounds, starts the implementation reading from a bounded buffer that the
    /// client's pushes fill, and registers it.
    /// </summary>
    public void OpenInbound<TItem>(object owner, RpcPeer connection, ulong id, Internal.RpcMethod push,
        Func<IAsyncEnumerable<TItem>, CancellationToken, Task<object?>> run, Action<Internal.RpcServerCall, object?>? writeResult)
    {
        Reserve(owner);
        var stream = new InboundStream<TItem>(this, owner, connection, id, push, writeResult);
        if (!_open.TryAdd((owner, id), stream))
        {
            Release(owner);
            stream.Dispose();
            throw new RpcException(RpcStatus.BadRequest, $"a stream with id {id} is already open for this client; the request was not run.");
        }

        stream.Start(run);
    }

    private void Reserve(object owner)
    {
        if (_closed || _serverStopping.IsCancellationRequested)
        {
            throw new RpcException(RpcStatus.Unavailable, ServerErrors.Stopping);
        }

        if (Interlocked.Increment(ref _count) > _options.MaxOpenStreams)
        {
            Interlocked.Decrement(ref _count);
            throw new RpcException(RpcStatus.Unavailable,
                $"the server has {_options.MaxOpenStreams} streams open, its limit (MaxOpenStreams); the stream was not opened. Retry later.");
        }

        if (_perOwner.AddOrUpdate(owner, 1, static (_, n) => n + 1) > _options.MaxOpenStreamsPerPeer)
        {
            Release(owner);
            throw new RpcException(RpcStatus.Unavailable,
                $"this client has {_options.MaxOpenStreamsPerPeer} streams open on the server, its limit (MaxOpenStreamsPerPeer); " +
                "the stream was not opened. End streams you no longer read (break out of the loop, or dispose the enumerator).");
        }
    }

    /// <summary>The stream <paramref name="id"/> of <paramref name="owner"/>, if it is open.</summary>
    public ServerStream? Find(object owner, ulong id) => _open.TryGetValue((owner, id), out ServerStream? stream) ? stream : null;

    /// <summary>The client no longer reads the stream (a cancel): its producer's token fires and it is forgotten.</summary>
    public bool End(object owner, ulong id)
    {
        if (_open.TryGetValue((owner, id), out ServerStream? stream))
        {
            stream.End();
            return true;
        }

        return false;
    }

    /// <summary>A connection ended: every stream it opened ends.</summary>
    public void EndAll(RpcPeer connection)
    {
        foreach (ServerStream stream in _open.Values)
        {
            if (ReferenceEquals(stream.Connection, connection))
            {
                stream.End();
            }
        }
    }

    /// <summary>The server stops: every stream ends, and no more open.</summary>
    public void EndAll()
    {
        _closed = true;
        foreach (ServerStream stream in _open.Values)
        {
            stream.End();
        }
    }

    public void Dispose()
    {
        EndAll();
        _idleCheck.Dispose();
    }

    /// <summary>Called by a stream that ended: it is forgotten and stops counting against the bounds.</summary>
    internal void Forget(ServerStream stream)
    {
        if (_open.TryRemove(new KeyValuePair<(object, ulong), ServerStream>((stream.Owner, stream.Id), stream)))
        {
            Release(stream.Owner);
        }
    }

    private void Release(object owner)
    {
        Interlocked.Decrement(ref _count);
        if (_perOwner.AddOrUpdate(owner, 0, static (_, n) => n - 1) <= 0)
        {
            _perOwner.TryRemove(new KeyValuePair<object, int>(owner, 0));
        }
    }

    private void EndIdle()
    {
        long idleTicks = (long)(_options.StreamIdleTimeout.TotalSeconds * Stopwatch.Frequency);
        long now = Stopwatch.GetTimestamp();
        foreach (ServerStream stream in _open.Values)
        {
            if (stream.IdleSince != 0 && now - stream.IdleSince > idleTicks)
            {
                stream.End();
            }
        }
    }
}

/// <summary>One open stream: its producer, and what the client's pulls have not taken yet.</summary>
internal abstract class ServerStream : IDisposable
{
    private readonly CancellationTokenSource _ended = new();
    private int _endedFlag;

    protected ServerStream(ServerStreams streams, object owner, RpcPeer connection, ulong id)
    {
        Streams = streams;
        Owner = owner;
        Connection = connection;
        Id = id;
        IdleSince = Stopwatch.GetTimestamp();
    }

    public object Owner { get; }

    /// <summary>The registry it belongs to.</summary>
    protected ServerStreams Streams { get; }

    public RpcPeer Connection { get; }

    public ulong Id { get; }

    /// <summary>When the last pull ended (Stopwatch timestamp); 0 while a pull runs.</summary>
    public long IdleSince { get; protected set; }

    /// <summary>Fires when the stream ends: the producer's token.</summary>
    protected CancellationToken EndedToken => _ended.Token;

    protected bool HasEnded => Volatile.Read(ref _endedFlag) != 0;

    /// <summary>Serves one pull: up to <paramref name="credit"/> items, at least one unless the stream ends.</summary>
    public virtual ValueTask PullAsync(Internal.RpcServerCall call, int credit) =>
        throw new RpcException(RpcStatus.BadRequest, $"stream {Id} takes items from the client: push to it, do not pull.");

    /// <summary>Serves one push of a client stream's items (the payload after the stream id).</summary>
    public virtual ValueTask PushAsync(Internal.RpcServerCall call, ReadOnlyMemory<byte> payload) =>
        throw new RpcException(RpcStatus.BadRequest, $"stream {Id} sends items to the client: pull from it, do not push.");

    /// <summary>Marks the stream busy (a pull or push runs) or idle since now.</summary>
    protected void Touch(bool busy) => IdleSince = busy ? 0 : Stopwatch.GetTimestamp();

    /// <summary>Ends the stream (once): the producer's token fires, the stream is forgotten, and the producer is disposed once no pull runs.</summary>
    public void End()
    {
        if (Interlocked.Exchange(ref _endedFlag, 1) != 0)
        {
            return;
        }

        Streams.Forget(this);
        try
        {
            _ended.Cancel();
        }
        catch (AggregateException)
        {
            // A producer's cancellation callback threw: the stream ends anyway.
        }

        _ = DisposeProducerAsync();
    }

    public void Dispose() => _ended.Dispose();

    /// <summary>The error for a pull of a stream that is not open.</summary>
    public static RpcException NotOpen(ulong id) => new(
        RpcStatus.Cancelled,
        $"stream {id} is not open on this server: it ended, was cancelled, stayed unread past the server's StreamIdleTimeout, " +
        "or was opened on another connection. Enumerate the method again to open a new stream.");

    protected abstract Task DisposeProducerAsync();
}

internal sealed class ServerStream<T> : ServerStream
{
    private readonly SemaphoreSlim _pulling = new(1, 1);
    private IAsyncEnumerator<T>? _producer;
    private Task<bool>? _next; // a MoveNextAsync started by an earlier pull and not finished when it was answered
    private Exception? _failure; // the producer failed after the items of the last chunk: the next pull fails with it

    public ServerStream(ServerStreams streams, object owner, RpcPeer connection, ulong id)
        : base(streams, owner, connection, id)
    {
    }

    public void Start(Func<CancellationToken, IAsyncEnumerable<T>> open)
    {
        IAsyncEnumerable<T> source = open(EndedToken) ?? throw new InvalidOperationException("The implementation returned a null IAsyncEnumerable.");
        _producer = source.GetAsyncEnumerator(EndedToken);
    }

    public override async ValueTask PullAsync(Internal.RpcServerCall call, int credit)
    {
        if (!_pulling.Wait(0))
        {
            throw new RpcException(RpcStatus.BadRequest, "a pull of this stream is already running: pull again once it is answered.");
        }

        Touch(busy: true);
        try
        {
            if (_failure is { } failure)
            {
                End();
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
            }

            if (HasEnded)
            {
                throw NotOpen(Id);
            }

            int count = 0;
            int limit = Streams.ChunkLimit;
            bool more = true;
            call.BeginChunk();
            while (count < credit && call.ChunkBytes < limit)
            {
                // (A completed MoveNextAsync gives a cached task: no allocation for items that are ready.) A producer that
                // throws at once, rather than in its task, still gets the items it produced before sent first.
                Task<bool> next;
                try
                {
                    next = _next ?? _producer!.MoveNextAsync().AsTask();
                }
                catch (Exception ex)
                {
                    next = Task.FromException<bool>(ex);
                }

                _next = null;
                if (!next.IsCompleted)
                {
                    if (count > 0)
                    {
                        _next = next; // send what is ready; the producer works on for the next pull
                        break;
                    }

                    // Nothing ready: wait, but no longer than the keep-alive; then answer an empty chunk (more to come).
                    if (await Task.WhenAny(next, Task.Delay(Streams.KeepAlive, EndedToken)).ConfigureAwait(false) != next)
                    {
                        _next = next;
                        break;
                    }
                }

                bool has;
                try
                {
                    has = await next.ConfigureAwait(false);
                }
                catch (Exception ex) when (count > 0)
                {
                    _failure = ex; // after the items produced before it
                    break;
                }

                if (!has)
                {
                    more = false;
                    break;
                }

                call.AppendItem(_producer!.Current);
                count++;
            }

            if (HasEnded && more)
            {
                throw NotOpen(Id); // ended while this pull waited
            }

            call.EndChunk(more, count);
            if (!more)
            {
                End();
            }
        }
        catch
        {
            End();
            throw;
        }
        finally
        {
            Touch(busy: false);
            _pulling.Release();
        }
    }

    protected override async Task DisposeProducerAsync()
    {
        await _pulling.WaitAsync().ConfigureAwait(false); // a running pull ends first: a producer is not thread-safe
        try
        {
            if (_next is { } next)
            {
                _next = null;
                try
                {
                    await next.ConfigureAwait(false);
                }
                catch (Exception)
                {
                    // Its token fired: the producer stops as it likes.
                }
            }

            if (_producer is not null)
            {
                await _producer.DisposeAsync().ConfigureAwait(false);
            }
        }
        catch (Exception)
        {
            // A producer that throws while it is disposed: nothing is left to tell.
        }
        finally
        {
            _pulling.Release();
            Dispose();
        }
    }
}

/// <summary>
/// A client stream: the implementation reads the items the client pushes from a bounded buffer, so a slow
/// implementation holds the client back (a push is answered once its items are in the buffer); the answer to the last
/// push is the method's result.
/// </summary>
internal sealed class InboundStream<TItem> : ServerStream
{
    /// <summary>Items the server holds for the implementation at most; a push waits for room.</summary>
    private const int Buffered = 1024;

    private readonly Internal.RpcMethod _push;
    private readonly Action<Internal.RpcServerCall, object?>? _writeResult;
    private readonly System.Threading.Channels.Channel<TItem> _items =
        System.Threading.Channels.Channel.CreateBounded<TItem>(new System.Threading.Channels.BoundedChannelOptions(Buffered) { SingleReader = true, SingleWriter = true });
    private readonly SemaphoreSlim _pushing = new(1, 1);
    private Task<object?>? _run;

    public InboundStream(ServerStreams streams, object owner, RpcPeer connection, ulong id, Internal.RpcMethod push, Action<Internal.RpcServerCall, object?>? writeResult)
        : base(streams, owner, connection, id)
    {
        _push = push;
        _writeResult = writeResult;
    }

    public void Start(Func<IAsyncEnumerable<TItem>, CancellationToken, Task<object?>> run)
    {
        try
        {
            _run = run(_items.Reader.ReadAllAsync(EndedToken), EndedToken);
        }
        catch (Exception ex)
        {
            _run = Task.FromException<object?>(ex);
        }
    }

    public override async ValueTask PushAsync(Internal.RpcServerCall call, ReadOnlyMemory<byte> payload)
    {
        // Decoded before anything is awaited: the frame it came in is released when this returns.
        if (PayloadCheck.Check(payload.Span, _push.ArgumentSchemas, "push") is { } malformed)
        {
            throw new RpcException(RpcStatus.BadRequest, $"the push to {_push} was refused before decoding: {malformed}.");
        }

        (bool end, TItem[] items) chunk;
        int offset = 0;
        try
        {
            chunk = PayloadCodec.ReadValue<(bool, TItem[])>(payload.Span, ref offset);
        }
        catch (Exception ex)
        {
            throw new RpcException(RpcStatus.BadRequest, $"the push to {_push} could not be decoded ({ex.Message}).", ex);
        }

        if (offset != payload.Length || chunk.items is null)
        {
            throw new RpcException(RpcStatus.BadRequest, $"the push to {_push} has {payload.Length - offset} bytes left after its items.");
        }

        if (!_pushing.Wait(0))
        {
            throw new RpcException(RpcStatus.BadRequest, "a push to this stream is already running: push again once it is answered.");
        }

        Touch(busy: true);
        try
        {
            foreach (TItem item in chunk.items)
            {
                if (!await WriteAsync(item).ConfigureAwait(false))
                {
                    break; // the method is done with the items (returned or threw): the rest are not needed
                }
            }

            if (_run!.IsFaulted || _run.IsCanceled)
            {
                await _run.ConfigureAwait(false); // the method failed: its error answers this push, and the client stops
            }

            if (!chunk.end)
            {
                // An empty answer: push the next. (A method that returned early has its result kept for the last push.)
                return;
            }

            _items.Writer.TryComplete();
            object? result = await _run!.ConfigureAwait(false); // its exception becomes the call's error
            if (_writeResult is not null)
            {
                call.WriteResultOf(_writeResult, result);
            }

            End();
        }
        catch (System.Threading.Channels.ChannelClosedException)
        {
            throw NotOpen(Id);
        }
        catch
        {
            End();
            throw;
        }
        finally
        {
            Touch(busy: false);
            _pushing.Release();
        }
    }

    /// <summary>Puts one item in the buffer, waiting for room (the client waits with it) unless the method ends first.</summary>
    private async ValueTask<bool> WriteAsync(TItem item)
    {
        while (!_items.Writer.TryWrite(item))
        {
            if (_run!.IsCompleted)
            {
                return false;
            }

            Task<bool> room = _items.Writer.WaitToWriteAsync(EndedToken).AsTask();
            if (await Task.WhenAny(room, _run).ConfigureAwait(false) != room || !await room.ConfigureAwait(false))
            {
                return false;
            }
        }

        return true;
    }

    protected override async Task DisposeProducerAsync()
    {
        _items.Writer.TryComplete();
        await _pushing.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_run is not null)
            {
                try
                {
                    await _run.ConfigureAwait(false); // its token has fired: it ends as it likes
                }
                catch (Exception)
                {
                    // Nobody waits for its outcome any more.
                }
            }
        }
        finally
        {
            _pushing.Release();
            Dispose();
        }
    }
}
