using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using TypedZmq.Internal;

namespace TypedZmq.Client;

/// <summary>
/// The client's side of a client stream (docs/streams.md): opens the call with its other arguments, then pushes the
/// items in chunks of at most <see cref="RpcClientOptions.StreamCredit"/>, each once the server has room for the last;
/// the answer to the last push is the method's result. If the items fail, or the caller cancels, the stream is closed
/// on the server (its token fires) and the call fails.
/// </summary>
internal static class ClientStreamWriter
{
    /// <summary>Opens the call, pushes every item, and returns the method's result.</summary>
    /// <param name="channel">The client's channel.</param>
    /// <param name="request">The request with the other arguments.</param>
    /// <param name="items">The items to send.</param>
    /// <param name="cancellationToken">Ends the call.</param>
    public static async Task<TResult> SendAsync<TItem, TResult>(RpcChannel channel, RpcRequest request, IAsyncEnumerable<TItem> items, CancellationToken cancellationToken)
    {
        // Pushes are encoded and their answers decoded as the method's own: only the server needs the push layout.
        if (channel.StreamsUnsupported is { } reason)
        {
            request.Return();
            throw new NotSupportedException(reason);
        }

        RpcMethod method = request.Method;
        int credit = channel.StreamCredit;
        Task<NoResult> open = channel.OpenStreamAsync<NoResult>(request, cancellationToken, out ulong streamId);
        bool finished = false;
        try
        {
            await open.ConfigureAwait(false);
            var chunk = new List<TItem>(Math.Min(credit, 1024));
            await foreach (TItem item in items.WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                chunk.Add(item);
                if (chunk.Count == credit)
                {
                    await channel.PushStreamAsync<TItem, NoResult>(method, streamId, end: false, chunk.ToArray(), cancellationToken).ConfigureAwait(false);
                    chunk.Clear();
                }
            }

            // The answer to the last push is the method's result, decoded with the method's own layout.
            TResult result = await channel.PushStreamAsync<TItem, TResult>(method, streamId, end: true, chunk.ToArray(), cancellationToken).ConfigureAwait(false);
            finished = true;
            return result;
        }
        finally
        {
            if (!finished && open.IsCompletedSuccessfully)
            {
                // The items failed, the caller cancelled, or a push failed: the server ends the stream (a close).
                if (!channel.CloseStream(method, streamId, close: true))
                {
                    _ = channel.PullStreamAsync<NoResult>(method, streamId, 0, CancellationToken.None)
                        .ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
                }
            }
            else
            {
                channel.CloseStream(method, streamId, close: false);
            }
        }
    }
}
