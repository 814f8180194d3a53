using TypedZmq.Internal;

namespace TypedZmq.PayloadFuzzer;

/// <summary>A channel that sends nothing: it keeps what a generated proxy encoded (the method and its payload).</summary>
internal sealed class CapturingChannel : RpcChannel
{
    public RpcMethod? Method { get; private set; }

    public byte[] Payload { get; private set; } = [];

    private protected override TResult InvokeCore<TResult>(RpcRequest request, CancellationToken cancellationToken)
    {
        Method = request.Method;
        Payload = request.Payload.ToArray();
        request.Return();
        return default!;
    }

    private protected override Task<TResult> InvokeCoreAsync<TResult>(RpcRequest request, CancellationToken cancellationToken) =>
        Task.FromResult(InvokeCore<TResult>(request, cancellationToken));
}
