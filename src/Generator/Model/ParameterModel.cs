namespace TypedZmq.Generator.Model;

/// <summary>One parameter of a service method. Immutable, with value equality.</summary>
/// <param name="Name">The parameter name as it must appear in C# (keywords escaped with <c>@</c>).</param>
/// <param name="Type">The fully qualified type, with nullable annotations, as it must appear in C#.</param>
/// <param name="IsCancellationToken">A trailing <c>CancellationToken</c>: not sent, it cancels the wait.</param>
internal sealed record ParameterModel(string Name, string Type, bool IsCancellationToken);
