using System.Linq;

namespace TypedZmq.Generator.Model;

/// <summary>One method of a service. Immutable, with value equality.</summary>
/// <param name="Name">The method name.</param>
/// <param name="ContainingInterface">The fully qualified interface that declares it (a base interface for inherited methods).</param>
/// <param name="ReturnType">The fully qualified return type as declared.</param>
/// <param name="ReturnKind">The shape of the return type.</param>
/// <param name="ResultType">The result type for <see cref="Model.ReturnKind.Value"/>, <c>Task&lt;T&gt;</c> and <c>ValueTask&lt;T&gt;</c>; otherwise null.</param>
/// <param name="Signature">The string hashed into the method id, for example <c>SayHello(System.String)</c>.</param>
/// <param name="MethodId">The method id.</param>
/// <param name="Parameters">The parameters in declaration order, including a trailing cancellation token.</param>
/// <param name="IsIdempotent">Marked <c>[RpcMethod(Idempotent = true)]</c>: the client may retry it.</param>
/// <param name="ArgumentSchemas">The expression of each sent argument's payload schema, in order.</param>
/// <param name="ResultSchema">The expression of the result's payload schema; null when the method returns nothing.</param>
/// <param name="PushSchema">For a method with a stream parameter: the expression of a push's payload schema, <c>(bool end, T[] items)</c>.</param>
internal sealed record MethodModel(
    string Name,
    string ContainingInterface,
    string ReturnType,
    ReturnKind ReturnKind,
    string? ResultType,
    string Signature,
    uint MethodId,
    EquatableArray<ParameterModel> Parameters,
    bool IsIdempotent,
    EquatableArray<string> ArgumentSchemas,
    string? ResultSchema,
    string? PushSchema = null)
{
    /// <summary>The client-stream parameter, if the method has one.</summary>
    public ParameterModel? StreamParameter => Parameters.FirstOrDefault(static p => p.StreamItemType is not null);
}
