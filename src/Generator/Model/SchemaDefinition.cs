namespace TypedZmq.Generator.Model;

/// <summary>
/// A payload schema that generated code creates once and defines afterwards, so that types can refer to each other:
/// a <c>[MemoryPackable]</c> object or a union. Immutable, with value equality.
/// </summary>
/// <param name="Field">The static field of the generated <c>Schemas</c> class that holds it, named after its type.</param>
/// <param name="FieldType">The field's type (<c>PayloadObjectSchema</c> or <c>PayloadUnionSchema</c>), fully qualified.</param>
/// <param name="Factory">The expression that creates it, undefined.</param>
/// <param name="DefineArguments">The arguments of its <c>Define</c> call: member schemas, or tags and cases.</param>
internal sealed record SchemaDefinition(string Field, string FieldType, string Factory, string DefineArguments);
