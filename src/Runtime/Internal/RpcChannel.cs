using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TypedZmq.Client;
using TypedZmq.Diagnostics;

namespace TypedZmq.Internal;

/// <summary>
/// What a generated proxy calls: sends an encoded request and decodes the reply into the method's result type.
/// Every client channel (request channel, multiplexed channel) derives from this and speaks the same frames.
/// Not for direct use: part of the contract between generated code and the runtime.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public abstract class RpcChannel
{
    private readonly RpcClientOptions? _options;
    private readonly RpcClientContinuation? _pipeline;
    private readonly RpcClientContinuation? _observedPipeline; // the client span and metrics, then the user's interceptors
    private long _lastRequestId = RequestIds.RandomStart();

    private protected RpcChannel()
    {
    }

    private protected RpcChannel(RpcClientOptions options)
    {
        _options = options;
        _pipeline = BuildPipeline(options.Interceptors);
        _observedPipeline = BuildPipeline([new ClientTelemetry(options.Endpoint), .. options.Interceptors]);
        Logger = options.LoggerFactory?.CreateLogger(Log.ClientCategory) ?? NullLogger.Instance;
    }

    /// <summary>Where the channel logs (nothing unless <see cref="RpcClientOptions.LoggerFactory"/> is set).</summary>
    private protected ILogger Logger { get; } = NullLogger.Instance;

    /// <summary>The interceptors a call goes through: with a tracing or metrics listener, telemetry's first.</summary>
    private RpcClientContinuation? Pipeline => _options is not null && Telemetry.ClientEnabled ? _observedPipeline : _pipeline;

    /// <summary>Starts a request for <paramref name="method"/>; the proxy then writes the arguments in order.</summary>
    /// <param name="method">The method being called.</param>
    /// <returns>A pooled request that one of the <c>Invoke</c> methods consumes.</returns>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1822", Justification = "Generated proxies call it on their channel: part of the shipped generated-code contract.")]
    public RpcRequest CreateRequest(RpcMethod method) => RpcRequest.Rent(method);

    /// <summary>Calls a method that returns nothing and waits for its completion.</summary>
    /// <param name="request">The encoded request; consumed by this call.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    public void Invoke(RpcRequest request, CancellationToken cancellationToken) =>
        Invoke<NoResult>(request, cancellationToken);

    /// <summary>Calls a method and waits for its result.</summary>
    /// <typeparam name="TResult">The method's return type.</typeparam>
    /// <param name="request">The encoded request; consumed by this call.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The decoded result.</returns>
    public TResult Invoke<TResult>(RpcRequest request, CancellationToken cancellationToken)
    {
        Prepare(request);
        RpcClientContinuation? pipeline = Pipeline;
        if (pipeline is null)
        {
            return InvokeCore<TResult>(request, cancellationToken);
        }

        // Synchronous interceptors complete at once; otherwise the caller's thread waits, as a synchronous method must.
        ValueTask<TResult> call = InvokeInterceptedAsync<TResult>(pipeline, request, async: false, cancellationToken);
        return call.IsCompleted ? call.Result : call.AsTask().GetAwaiter().GetResult();
    }

    /// <summary>Calls a method that returns <see cref="Task"/>.</summary>
    /// <param name="request">The encoded request; consumed by this call.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A task that completes when the server has run the method.</returns>
    public Task InvokeAsync(RpcRequest request, CancellationToken cancellationToken) =>
        InvokeAsync<NoResult>(request, cancellationToken);

    /// <summary>Calls a method that returns <see cref="Task{TResult}"/>.</summary>
    /// <typeparam name="TResult">The task's result type.</typeparam>
    /// <param name="request">The encoded request; consumed by this call.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A task with the decoded result.</returns>
    public Task<TResult> InvokeAsync<TResult>(RpcRequest request, CancellationToken cancellationToken)
    {
        Prepare(request);
        return SendAsync<TResult>(request, cancellationToken);
    }

    /// <summary>
    /// Calls a method that returns <see cref="IAsyncEnumerable{T}"/>: enumerating the result opens a stream on the
    /// server and pulls its items in chunks (docs/streams.md). Enumerate it once; call the method again for another.
    /// </summary>
    /// <typeparam name="T">The item type.</typeparam>
    /// <param name="request">The encoded request that opens the stream; consumed when the stream opens.</param>
    /// <param name="cancellationToken">Ends the stream, on both sides.</param>
    /// <returns>The stream's items, in order.</returns>
    public IAsyncEnumerable<T> InvokeStream<T>(RpcRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new ClientStream<T>(this, request, cancellationToken);
    }

    /// <summary>
    /// Calls a method that takes an <see cref="IAsyncEnumerable{T}"/> (a client stream) and returns a result: opens the
    /// stream with the other arguments, pushes the items in chunks as the enumerable yields them, and returns the
    /// method's result, which answers the last push (docs/streams.md).
    /// </summary>
    /// <typeparam name="TItem">The stream's item type.</typeparam>
    /// <typeparam name="TResult">The method's result type.</typeparam>
    /// <param name="request">The encoded request with the other arguments; consumed when the stream opens.</param>
    /// <param name="items">The items to send.</param>
    /// <param name="cancellationToken">Ends the call, on both sides.</param>
    /// <returns>The method's result.</returns>
    public Task<TResult> InvokeWithStreamAsync<TItem, TResult>(RpcRequest request, IAsyncEnumerable<TItem> items, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(items);
        return ClientStreamWriter.SendAsync<TItem, TResult>(this, request, items, cancellationToken);
    }

    /// <summary>Calls a method that takes a client stream and returns nothing (see <see cref="InvokeWithStreamAsync{TItem, TResult}"/>).</summary>
    /// <typeparam name="TItem">The stream's item type.</typeparam>
    /// <param name="request">The encoded request with the other arguments; consumed when the stream opens.</param>
    /// <param name="items">The items to send.</param>
    /// <param name="cancellationToken">Ends the call, on both sides.</param>
    /// <returns>A task that completes when the method has run.</returns>
    public Task InvokeWithStreamAsync<TItem>(RpcRequest request, IAsyncEnumerable<TItem> items, CancellationToken cancellationToken) =>
        InvokeWithStreamAsync<TItem, NoResult>(request, items, cancellationToken);

    /// <summary>Pushes a client stream's items: never retried; the last push (<paramref name="end"/>) waits for the method's result.</summary>
    internal Task<TResult> PushStreamAsync<TItem, TResult>(RpcMethod method, ulong streamId, bool end, TItem[] items, CancellationToken cancellationToken)
    {
        RpcRequest request = CreateRequest(method);
        request.Write(streamId);
        request.Write<(bool, TItem[])>((end, items));
        Prepare(request);
        request.StreamId = streamId;
        request.IsPush = true;
        if (!end)
        {
            request.Timeout = System.Threading.Timeout.InfiniteTimeSpan; // waits while the server's buffer is full
        }

        return SendAsync<TResult>(request, cancellationToken);
    }

    /// <summary>The least time a pull waits for its answer (servers answer within their keep-alive, at most 30 s).</summary>
    private static readonly TimeSpan PullTimeout = TimeSpan.FromMinutes(2);

    /// <summary>The stream's credit per pull (see <see cref="RpcClientOptions.StreamCredit"/>).</summary>
    internal int StreamCredit => _options?.StreamCredit ?? 64;

    /// <summary>Whether a stream asks for its next chunk while its reader reads this one (channels that can have several calls in flight).</summary>
    internal virtual bool PrefetchesStreams => false;

    /// <summary>Why this channel cannot carry streams, or null when it can.</summary>
    internal virtual string? StreamsUnsupported => null;

    /// <summary>
    /// A stream is over on the client: the channel forgets where it was open and, with <paramref name="close"/>, tells
    /// the server to end it. False when the channel cannot send that itself (the caller closes it with a pull of credit 0).
    /// </summary>
    internal virtual bool CloseStream(RpcMethod method, ulong streamId, bool close) => false;

    /// <summary>Opens a stream: like <see cref="InvokeAsync{TResult}"/>, and says which request id names it.</summary>
    internal Task<TResult> OpenStreamAsync<TResult>(RpcRequest request, CancellationToken cancellationToken, out ulong streamId)
    {
        Prepare(request);
        request.OpensStream = true;
        streamId = request.RequestId;
        return SendAsync<TResult>(request, cancellationToken);
    }

    /// <summary>Pulls a stream's next chunk (or, with a credit of 0, ends it): never retried, no deadline of its own.</summary>
    internal Task<TResult> PullStreamAsync<TResult>(RpcMethod method, ulong streamId, int credit, CancellationToken cancellationToken)
    {
        RpcRequest pull = CreateRequest(method);
        pull.Write(streamId);
        pull.Write(credit);
        Prepare(pull);
        pull.StreamId = streamId;
        if (credit > 0 && pull.Timeout != System.Threading.Timeout.InfiniteTimeSpan && pull.Timeout < PullTimeout)
        {
            // A server answers a pull within its keep-alive (at most 30 s) even when no item comes: this is ample.
            pull.Timeout = PullTimeout;
        }
        return SendAsync<TResult>(pull, cancellationToken);
    }

    private Task<TResult> SendAsync<TResult>(RpcRequest request, CancellationToken cancellationToken)
    {
        RpcClientContinuation? pipeline = Pipeline;
        return pipeline is null
            ? InvokeCoreAsync<TResult>(request, cancellationToken)
            : InvokeInterceptedAsync<TResult>(pipeline, request, async: true, cancellationToken).AsTask();
    }

    /// <summary>Calls a method that returns <see cref="ValueTask"/>.</summary>
    /// <param name="request">The encoded request; consumed by this call.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A value task that completes when the server has run the method.</returns>
    public ValueTask InvokeValueTaskAsync(RpcRequest request, CancellationToken cancellationToken) =>
        new(InvokeAsync<NoResult>(request, cancellationToken));

    /// <summary>Calls a method that returns <see cref="ValueTask{TResult}"/>.</summary>
    /// <typeparam name="TResult">The value task's result type.</typeparam>
    /// <param name="request">The encoded request; consumed by this call.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A value task with the decoded result.</returns>
    public ValueTask<TResult> InvokeValueTaskAsync<TResult>(RpcRequest request, CancellationToken cancellationToken) =>
        new(InvokeAsync<TResult>(request, cancellationToken));

    /// <summary>Sends the request, waits for the reply on the calling thread and decodes it.</summary>
    /// <typeparam name="TResult">The result type, or <see cref="NoResult"/> for methods without one.</typeparam>
    /// <param name="request">The encoded request, with its id, timeout and metadata; the channel returns it to the pool.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The decoded result.</returns>
    private protected abstract TResult InvokeCore<TResult>(RpcRequest request, CancellationToken cancellationToken);

    /// <summary>Sends the request and completes the task with the decoded reply.</summary>
    /// <typeparam name="TResult">The result type, or <see cref="NoResult"/> for methods without one.</typeparam>
    /// <param name="request">The encoded request, with its id, timeout and metadata; the channel returns it to the pool.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A task with the decoded result.</returns>
    private protected abstract Task<TResult> InvokeCoreAsync<TResult>(RpcRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// What every call gets before it is sent, on the caller's flow (where <see cref="RpcCall"/> scopes are visible):
    /// a request id unique to this client, its timeout, the scope's metadata.
    /// </summary>
    private void Prepare(RpcRequest request)
    {
        request.RequestId = RequestIds.Next(ref _lastRequestId);
        RpcCall.Settings? settings = RpcCall.Current;
        request.Timeout = settings?.Timeout ?? _options?.Timeout ?? RpcClientOptions.DefaultTimeout;
        request.Metadata = settings is { Metadata.Length: > 0 } ? new RpcMetadata(settings.Metadata) : null;
    }

    // Pooled builders: a call that goes asynchronous through the interceptors reuses its state machine boxes.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<TResult> InvokeInterceptedAsync<TResult>(RpcClientContinuation pipeline, RpcRequest request, bool async, CancellationToken cancellationToken)
    {
        var call = new InterceptedCall<TResult>(this, request, _options!.Endpoint, async, cancellationToken);
        await RunPipelineAsync(pipeline, call).ConfigureAwait(false);
        return call.TypedResult;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private static async ValueTask RunPipelineAsync(RpcClientContinuation pipeline, RpcClientContext call)
    {
        try
        {
            await pipeline(call).ConfigureAwait(false);
        }
        finally
        {
            if (!call.Sent)
            {
                call.Request.Return(); // refused by an interceptor: the channel never took it
            }
        }

        if (!call.Completed)
        {
            throw new RpcException(
                RpcStatus.Internal,
                $"{call.Method}: a client interceptor returned without calling next or throwing an RpcException, so the call has no result.");
        }
    }

    private static RpcClientContinuation? BuildPipeline(IList<RpcClientInterceptor> interceptors)
    {
        if (interceptors.Count == 0)
        {
            return null;
        }

        // Built once: no delegate is allocated per call. The first interceptor registered is the outermost.
        RpcClientContinuation next = static context => context.SendAsync();
        for (int i = interceptors.Count - 1; i >= 0; i--)
        {
            RpcClientInterceptor interceptor = interceptors[i] ?? throw new ArgumentException("RpcClientOptions.Interceptors holds a null.");
            RpcClientContinuation inner = next;
            next = context => interceptor.InterceptAsync(context, inner);
        }

        return next;
    }

    /// <summary>A call with interceptors: the end of their chain sends the request over this channel.</summary>
    private sealed class InterceptedCall<TResult> : RpcClientContext
    {
        private readonly RpcChannel _channel;
        private readonly bool _async;

        public InterceptedCall(RpcChannel channel, RpcRequest request, string endpoint, bool async, CancellationToken cancellationToken)
            : base(request, endpoint, cancellationToken)
        {
            _channel = channel;
            _async = async;
            request.Context = this;
        }

        public TResult TypedResult { get; private set; } = default!;

        [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
        internal override async ValueTask SendAsync()
        {
            if (Sent)
            {
                throw new InvalidOperationException("A client interceptor called next more than once for the same call.");
            }

            Sent = true;
            Request.Timeout = Timeout;
            Request.Metadata = RequestMetadata.Count > 0 ? RequestMetadata : null;
            TResult result = _async
                ? await _channel.InvokeCoreAsync<TResult>(Request, CancellationToken).ConfigureAwait(false)
                : _channel.InvokeCore<TResult>(Request, CancellationToken);
            TypedResult = result;
            Result = typeof(TResult) == typeof(NoResult) ? null : result;
            Completed = true;
        }
    }
}

/// <summary>The result type of a method that returns nothing: its reply payload is empty.</summary>
internal readonly struct NoResult
{
}
