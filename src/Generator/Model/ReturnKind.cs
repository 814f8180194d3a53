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
}
