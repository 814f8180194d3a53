using System.ComponentModel;
using System.Threading;
using System.Threading.Tasks;

namespace TypedZmq.Internal;

/// <summary>
/// What a generated proxy calls: sends an encoded request and decodes the reply into the method's result type.
/// Every client channel (request channel, multiplexed channel) derives from this and speaks the same frames.
/// Not for direct use: part of the contract between generated code and the runtime.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public abstract class RpcChannel
{
    /// <summary>Starts a request for <paramref name="method"/>; the proxy then writes the arguments in order.</summary>
    /// <param name="method">The method being called.</param>
    /// <returns>A pooled request that one of the <c>Invoke</c> methods consumes.</returns>
    public RpcRequest CreateRequest(RpcMethod method) => RpcRequest.Rent(method);

    /// <summary>Calls a method that returns nothing and waits for its completion.</summary>
    /// <param name="request">The encoded request; consumed by this call.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    public void Invoke(RpcRequest request, CancellationToken cancellationToken) =>
        InvokeCore<NoResult>(request, cancellationToken);

    /// <summary>Calls a method and waits for its result.</summary>
    /// <typeparam name="TResult">The method's return type.</typeparam>
    /// <param name="request">The encoded request; consumed by this call.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The decoded result.</returns>
    public TResult Invoke<TResult>(RpcRequest request, CancellationToken cancellationToken) =>
        InvokeCore<TResult>(request, cancellationToken);

    /// <summary>Calls a method that returns <see cref="Task"/>.</summary>
    /// <param name="request">The encoded request; consumed by this call.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A task that completes when the server has run the method.</returns>
    public Task InvokeAsync(RpcRequest request, CancellationToken cancellationToken) =>
        InvokeCoreAsync<NoResult>(request, cancellationToken);

    /// <summary>Calls a method that returns <see cref="Task{TResult}"/>.</summary>
    /// <typeparam name="TResult">The task's result type.</typeparam>
    /// <param name="request">The encoded request; consumed by this call.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A task with the decoded result.</returns>
    public Task<TResult> InvokeAsync<TResult>(RpcRequest request, CancellationToken cancellationToken) =>
        InvokeCoreAsync<TResult>(request, cancellationToken);

    /// <summary>Calls a method that returns <see cref="ValueTask"/>.</summary>
    /// <param name="request">The encoded request; consumed by this call.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A value task that completes when the server has run the method.</returns>
    public ValueTask InvokeValueTaskAsync(RpcRequest request, CancellationToken cancellationToken) =>
        new(InvokeCoreAsync<NoResult>(request, cancellationToken));

    /// <summary>Calls a method that returns <see cref="ValueTask{TResult}"/>.</summary>
    /// <typeparam name="TResult">The value task's result type.</typeparam>
    /// <param name="request">The encoded request; consumed by this call.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A value task with the decoded result.</returns>
    public ValueTask<TResult> InvokeValueTaskAsync<TResult>(RpcRequest request, CancellationToken cancellationToken) =>
        new(InvokeCoreAsync<TResult>(request, cancellationToken));

    /// <summary>Sends the request, waits for the reply on the calling thread and decodes it.</summary>
    /// <typeparam name="TResult">The result type, or <see cref="NoResult"/> for methods without one.</typeparam>
    /// <param name="request">The encoded request; the channel returns it to the pool.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The decoded result.</returns>
    private protected abstract TResult InvokeCore<TResult>(RpcRequest request, CancellationToken cancellationToken);

    /// <summary>Sends the request and completes the task with the decoded reply.</summary>
    /// <typeparam name="TResult">The result type, or <see cref="NoResult"/> for methods without one.</typeparam>
    /// <param name="request">The encoded request; the channel returns it to the pool.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A task with the decoded result.</returns>
    private protected abstract Task<TResult> InvokeCoreAsync<TResult>(RpcRequest request, CancellationToken cancellationToken);
}

/// <summary>The result type of a method that returns nothing: its reply payload is empty.</summary>
internal readonly struct NoResult
{
}
