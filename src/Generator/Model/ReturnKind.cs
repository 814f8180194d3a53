namespace TypedZmq.Generator.Model;

/// <summary>The shapes of return type a service method may have.</summary>
internal enum ReturnKind
{
    Void,
    Value,
    Task,
    TaskOfT,
    ValueTask,
    ValueTaskOfT,

    /// <summary><c>IAsyncEnumerable&lt;T&gt;</c>: a stream of results, pulled by the client in chunks.</summary>
    AsyncEnumerable,
}
