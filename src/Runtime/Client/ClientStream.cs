using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using TypedZmq.Internal;

namespace TypedZmq.Client;

/// <summary>
/// The client's side of a stream (docs/streams.md): enumerating it opens the stream with the method's request, then
/// pulls chunks of at most <see cref="RpcClientOptions.StreamCredit"/> items, asking for the next chunk while the reader
/// reads this one where the channel can have several calls in flight. A reader that stops early (break, an exception,
/// disposing the enumerator, cancelling) ends the stream on the server with a final pull of credit 0.
/// </summary>
internal sealed class ClientStream<T> : IAsyncEnumerable<T>
{
    private readonly RpcChannel _channel;
    private readonly CancellationToken _cancellationToken;
    private RpcRequest? _request;

    public ClientStream(RpcChannel channel, RpcRequest request, CancellationToken cancellationToken)
    {
        _channel = channel;
        _request = request;
        _cancellationToken = cancellationToken;
    }

    public IAsyncEnumerator<T> GetAsyncEnumerator(CancellationToken cancellationToken = default)
    {
        RpcRequest request = Interlocked.Exchange(ref _request, null) ?? throw new InvalidOperationException(
            "This stream was enumerated already: its request went with the first enumeration. Call the method again for a new stream.");
        if (_channel.StreamsUnsupported is { } reason)
        {
            request.Return();
            throw new NotSupportedException(reason);
        }

        return ReadAsync(request, cancellationToken).GetAsyncEnumerator(cancellationToken);
    }

    private async IAsyncEnumerable<T> ReadAsync(RpcRequest request, [EnumeratorCancellation] CancellationToken enumeratorToken)
    {
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(_cancellationToken, enumeratorToken);
        CancellationToken token = cancellation.Token;
        RpcMethod method = request.Method;
        int credit = _channel.StreamCredit;
        (bool more, T[] items) = await _channel.OpenStreamAsync<(bool, T[])>(request, token, out ulong streamId).ConfigureAwait(false);
        Task<(bool, T[])>? next = null;
        bool ended = !more;
        try
        {
            while (true)
            {
                if (more && _channel.PrefetchesStreams)
                {
                    next = _channel.PullStreamAsync<(bool, T[])>(method, streamId, credit, token); // while the reader reads these
                }

                foreach (T item in items)
                {
                    token.ThrowIfCancellationRequested(); // a reader that cancels stops here, not at the end of the chunk
                    yield return item;
                }

                if (!more)
                {
                    ended = true;
                    yield break;
                }

                (more, items) = await (next ?? _channel.PullStreamAsync<(bool, T[])>(method, streamId, credit, token)).ConfigureAwait(false);
                next = null;
            }
        }
        finally
        {
            if (!ended)
            {
                // The reader stopped early, failed, or was cancelled: end the stream on the server, without waiting.
                if (next is not null)
                {
                    _ = next.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
                }

                if (!_channel.CloseStream(method, streamId, close: true))
                {
                    await CloseAsync(method, streamId).ConfigureAwait(false);
                }

                await cancellation.CancelAsync().ConfigureAwait(false); // and the pull asked for ahead, if any
            }
            else
            {
                _channel.CloseStream(method, streamId, close: false);
            }
        }
    }

    /// <summary>A final pull of credit 0 (the request channel, which cannot send a cancel): the server ends the stream.</summary>
    private async Task CloseAsync(RpcMethod method, ulong streamId)
    {
        Task<(bool, T[])> close = _channel.PullStreamAsync<(bool, T[])>(method, streamId, 0, CancellationToken.None);
        try
        {
            await close.ConfigureAwait(false); // one call at a time on this channel: the next call waits for it anyway
        }
        catch (RpcException)
        {
            // The stream or its server is gone already.
        }
        catch (ObjectDisposedException)
        {
        }
    }
}
