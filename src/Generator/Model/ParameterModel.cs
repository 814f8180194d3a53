namespace TypedZmq.Generator.Model;

/// <summary>One parameter of a service method. Immutable, with value equality.</summary>
/// <param name="Name">The parameter name as it must appear in C# (keywords escaped with <c>@</c>).</param>
/// <param name="Type">The fully qualified type, with nullable annotations, as it must appear in C#.</param>
/// <param name="IsCancellationToken">A trailing <c>CancellationToken</c>: not sent, it cancels the wait.</param>
/// <param name="StreamItemType">For an <c>IAsyncEnumerable&lt;T&gt;</c> parameter (a client stream): <c>T</c>; otherwise null.</param>
internal sealed record ParameterModel(string Name, string Type, bool IsCancellationToken, string? StreamItemType = null)
{
    /// <summary>Sent in the request itself: neither the cancellation token nor the stream, which travels in pushes.</summary>
    public bool IsSent => !IsCancellationToken && StreamItemType is null;
}
