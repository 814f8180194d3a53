namespace TypedZmq.Generator.Model;

/// <summary>
/// Everything the emitter needs to write one service's proxy, dispatcher and registration. Holds only strings,
/// numbers, enums and equatable arrays: never a symbol, syntax node or compilation, so it caches across edits.
/// </summary>
/// <param name="Namespace">The interface's namespace, or empty for the global namespace.</param>
/// <param name="InterfaceType">The fully qualified interface, for example <c>global::HelloWorld.Contracts.IGreeter</c>.</param>
/// <param name="GeneratedNamespace">
/// The namespace of the generated types, one per service (<c>TypedZmq.Generated.</c> and the interface's full name), so
/// they never meet a user's own types.
/// </param>
/// <param name="FileLocal">Whether the generated types are <c>file</c>-local (C# 11 and later) rather than internal.</param>
/// <param name="ServiceName">The service's wire name.</param>
/// <param name="ServiceId">The service id.</param>
/// <param name="HintName">The generated file's hint name.</param>
/// <param name="Methods">The service's methods, inherited ones included.</param>
/// <param name="SerializableTypes">
/// The <c>[MemoryPackable]</c> types reachable from the signatures (through members, arrays and generic arguments),
/// fully qualified: their static constructors register their formatters, which the registration runs up front so that
/// MemoryPack needs no reflection to find them (NativeAOT trims that reflection away).
/// </param>
/// <param name="Schemas">The object and union payload schemas the methods' schemas refer to by field name.</param>
internal sealed record ServiceModel(
    string Namespace,
    string InterfaceType,
    string GeneratedNamespace,
    bool FileLocal,
    string ServiceName,
    uint ServiceId,
    string HintName,
    EquatableArray<MethodModel> Methods,
    EquatableArray<string> SerializableTypes,
    EquatableArray<SchemaDefinition> Schemas);
