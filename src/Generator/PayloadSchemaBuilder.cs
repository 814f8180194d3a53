using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Microsoft.CodeAnalysis;
using TypedZmq.Generator.Model;

namespace TypedZmq.Generator;

/// <summary>
/// Writes, for a contract type, the C# expression that builds its <c>PayloadSchema</c>: the layout MemoryPack reads,
/// derived from the same rules MemoryPack's own generator and formatters follow (member selection and order, unmanaged
/// types copied as raw memory, collection and tuple layouts, version-tolerant and union headers). The runtime walks every
/// payload from the network against it before MemoryPack reads a byte. What it cannot see inside (custom formatters,
/// hand-written <c>IMemoryPackable</c>, formatters registered at run time) becomes <c>Unchecked</c>.
/// The same walk collects the <c>[MemoryPackable]</c> types the contract reaches, for the registration to warm up.
/// </summary>
internal sealed class PayloadSchemaBuilder
{
    private const string Schema = "global::TypedZmq.Internal.PayloadSchema";

    private static readonly SymbolDisplayFormat FixedFormat = SymbolDisplayFormat.FullyQualifiedFormat;

    private static readonly SymbolDisplayFormat TypeOfFormat = SymbolDisplayFormat.FullyQualifiedFormat
        .RemoveMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    private static readonly HashSet<string> SequenceTypes =
    [
        "System.Collections.Generic.List`1", "System.Collections.Generic.Stack`1", "System.Collections.Generic.Queue`1",
        "System.Collections.Generic.LinkedList`1", "System.Collections.Generic.HashSet`1", "System.Collections.Generic.SortedSet`1",
        "System.Collections.Generic.IEnumerable`1", "System.Collections.Generic.ICollection`1",
        "System.Collections.Generic.IReadOnlyCollection`1", "System.Collections.Generic.IList`1",
        "System.Collections.Generic.IReadOnlyList`1", "System.Collections.Generic.ISet`1", "System.Collections.Generic.IReadOnlySet`1",
        "System.Memory`1", "System.ReadOnlyMemory`1", "System.ArraySegment`1", "System.Buffers.ReadOnlySequence`1",
        "System.Collections.ObjectModel.Collection`1", "System.Collections.ObjectModel.ObservableCollection`1",
        "System.Collections.ObjectModel.ReadOnlyCollection`1", "System.Collections.ObjectModel.ReadOnlyObservableCollection`1",
        "System.Collections.Concurrent.ConcurrentQueue`1", "System.Collections.Concurrent.ConcurrentStack`1",
        "System.Collections.Concurrent.ConcurrentBag`1", "System.Collections.Concurrent.BlockingCollection`1",
        "System.Collections.Immutable.ImmutableArray`1", "System.Collections.Immutable.ImmutableList`1",
        "System.Collections.Immutable.ImmutableQueue`1", "System.Collections.Immutable.ImmutableStack`1",
        "System.Collections.Immutable.ImmutableHashSet`1", "System.Collections.Immutable.ImmutableSortedSet`1",
        "System.Collections.Immutable.IImmutableList`1", "System.Collections.Immutable.IImmutableQueue`1",
        "System.Collections.Immutable.IImmutableStack`1", "System.Collections.Immutable.IImmutableSet`1",
        "System.Collections.Frozen.FrozenSet`1",
    ];

    private static readonly HashSet<string> DictionaryTypes =
    [
        "System.Collections.Generic.Dictionary`2", "System.Collections.Generic.SortedDictionary`2",
        "System.Collections.Generic.SortedList`2", "System.Collections.Generic.IDictionary`2",
        "System.Collections.Generic.IReadOnlyDictionary`2", "System.Collections.Concurrent.ConcurrentDictionary`2",
        "System.Collections.Immutable.ImmutableDictionary`2", "System.Collections.Immutable.ImmutableSortedDictionary`2",
        "System.Collections.Immutable.IImmutableDictionary`2", "System.Collections.Frozen.FrozenDictionary`2",
    ];

    private static readonly HashSet<string> StringTypes =
        ["System.Uri", "System.Globalization.CultureInfo", "System.TimeZoneInfo", "System.Type"];

    private readonly Compilation _compilation;
    private readonly Dictionary<ITypeSymbol, string> _named = new(SymbolEqualityComparer.Default);
    private readonly List<SchemaDefinition> _definitions = [];
    private readonly HashSet<string> _fields = [];
    private readonly List<string> _packable = [];

    public PayloadSchemaBuilder(Compilation compilation) => _compilation = compilation;

    /// <summary>The object and union schemas referred to by name, in the order they were first reached.</summary>
    public EquatableArray<SchemaDefinition> Definitions => new(_definitions.ToArray());

    /// <summary>
    /// The <c>[MemoryPackable]</c> types reached (parameters, results, their serialized members, elements and type
    /// arguments), fully qualified, in the order first reached: their static constructors register their formatters,
    /// which the registration runs up front so that MemoryPack needs no reflection to find them (NativeAOT trims it).
    /// </summary>
    public EquatableArray<string> PackableTypes => new(_packable.ToArray());

    /// <summary>The expression that gives the schema of <paramref name="type"/>.</summary>
    public string For(ITypeSymbol type)
    {
        NotePackable(type);
        if (type.IsUnmanagedType && type is not IPointerTypeSymbol and not IFunctionPointerTypeSymbol && !type.IsRefLikeType)
        {
            // MemoryPack copies these as raw memory, Unsafe.SizeOf<T>() bytes; generated code asks the runtime for the size.
            return IsAccessible(type) ? $"{Schema}.Fixed<{type.ToDisplayString(FixedFormat)}>()" : Unchecked(type);
        }

        switch (type)
        {
            case IArrayTypeSymbol array when array.IsSZArray:
                return $"{Schema}.Sequence({For(array.ElementType)})";
            case IArrayTypeSymbol array when array.Rank <= 4:
                return $"{Schema}.MultiDimensionalArray({array.Rank.ToString(CultureInfo.InvariantCulture)}, {For(array.ElementType)})";
            case INamedTypeSymbol named:
                return ForNamed(named);
            default:
                return Unchecked(type);
        }
    }

    private string ForNamed(INamedTypeSymbol type)
    {
        if (type.SpecialType == SpecialType.System_String)
        {
            return $"{Schema}.String";
        }

        if (_named.TryGetValue(type, out string? field))
        {
            return field;
        }

        AttributeData? packable = FindAttribute(type, "MemoryPack.MemoryPackableAttribute");
        if (packable is not null)
        {
            return ForPackable(type, packable);
        }

        string name = MetadataName(type.OriginalDefinition);
        System.Collections.Immutable.ImmutableArray<ITypeSymbol> arguments = type.TypeArguments;
        if (SequenceTypes.Contains(name))
        {
            return $"{Schema}.Sequence({For(arguments[0])})";
        }

        if (DictionaryTypes.Contains(name))
        {
            return $"{Schema}.Sequence({Pair(arguments[0], arguments[1])})";
        }

        switch (name)
        {
            case "System.Collections.Generic.KeyValuePair`2":
                return Pair(arguments[0], arguments[1]);
            case "System.Collections.Generic.PriorityQueue`2":
                INamedTypeSymbol? valueTuple = _compilation.GetTypeByMetadataName("System.ValueTuple`2");
                return valueTuple is null
                    ? Unchecked(type)
                    : $"{Schema}.Sequence({For(valueTuple.Construct(arguments[0], arguments[1]))})";
            case "System.Nullable`1":
            case "System.Lazy`1":
                return $"{Schema}.Record({For(arguments[0])})";
            case "System.Linq.IGrouping`2":
                return Grouping(arguments[0], arguments[1]);
            case "System.Linq.ILookup`2":
                return $"{Schema}.Sequence({Grouping(arguments[0], arguments[1])})";
            case "System.Version":
                string int32 = $"{Schema}.Fixed<int>()";
                return $"{Schema}.Record({int32}, {int32}, {int32}, {int32})";
            case "System.Numerics.BigInteger":
                return $"{Schema}.Sequence({Schema}.Fixed<byte>())";
            case "System.Text.StringBuilder":
                return $"{Schema}.Sequence({Schema}.Fixed<char>())";
            case "System.Collections.BitArray":
                return $"{Schema}.BitArray";
        }

        if (StringTypes.Contains(name))
        {
            return $"{Schema}.String";
        }

        if (name.StartsWith("System.Tuple`", System.StringComparison.Ordinal))
        {
            return $"{Schema}.Record({string.Join(", ", arguments.Select(For))})";
        }

        if (name.StartsWith("System.ValueTuple`", System.StringComparison.Ordinal))
        {
            // Managed (unmanaged ones were copied raw above): the items back to back; TRest is a nested ValueTuple.
            return $"{Schema}.Tuple({string.Join(", ", arguments.Select(For))})";
        }

        return Unchecked(type);
    }

    private string ForPackable(INamedTypeSymbol type, AttributeData packable)
    {
        int generateType = ReadGenerateType(packable);
        if (generateType == GenerateObject && (type.IsAbstract || type.IsStatic))
        {
            generateType = GenerateUnion;
        }

        switch (generateType)
        {
            case GenerateObject:
            case GenerateVersionTolerant:
            case GenerateCircularReference:
                return DefineObject(type, generateType);
            case GenerateUnion:
                return DefineUnion(type);
            case GenerateCollection:
                return ForGeneratedCollection(type);
            default:
                return Unchecked(type); // NoGenerate: the application registers a formatter TypedZmq cannot see
        }
    }

    private string DefineObject(INamedTypeSymbol type, int generateType)
    {
        string reference = Reserve(type, out int slot);
        string factory = generateType switch
        {
            GenerateVersionTolerant => "VersionTolerant",
            GenerateCircularReference => "CircularReference",
            _ => "Object",
        };

        List<(int Order, ISymbol Member)> members = MemoryPackMembers(type);
        var schemas = new List<string>();
        if (generateType == GenerateObject)
        {
            foreach ((_, ISymbol member) in members)
            {
                schemas.Add(ForMember(member));
            }
        }
        else if (members.Count > 0)
        {
            // Version-tolerant layouts number members by order; unused numbers are gaps MemoryPack skips by size.
            int maxOrder = members.Max(static m => m.Order);
            for (int order = 0; order <= maxOrder; order++)
            {
                ISymbol? member = members.FirstOrDefault(m => m.Order == order).Member;
                schemas.Add(member is null ? "null" : ForMember(member));
            }
        }

        Complete(slot, "global::TypedZmq.Internal.PayloadObjectSchema", $"{Schema}.{factory}({Literal(type)})", string.Join(", ", schemas));
        return reference;
    }

    private string DefineUnion(INamedTypeSymbol type)
    {
        string reference = Reserve(type, out int slot);
        var tags = new List<string>();
        var cases = new List<string>();
        foreach (AttributeData union in type.GetAttributes())
        {
            if (union.AttributeClass?.ToDisplayString() == "MemoryPack.MemoryPackUnionAttribute" &&
                union.ConstructorArguments.Length == 2 &&
                union.ConstructorArguments[0].Value is ushort tag &&
                union.ConstructorArguments[1].Value is ITypeSymbol caseType)
            {
                tags.Add(tag.ToString(CultureInfo.InvariantCulture));
                cases.Add(For(caseType));
            }
        }

        Complete(
            slot,
            "global::TypedZmq.Internal.PayloadUnionSchema",
            $"{Schema}.Union({Literal(type)})",
            $"new ushort[] {{ {string.Join(", ", tags)} }}, new {Schema}[] {{ {string.Join(", ", cases)} }}");
        return reference;
    }

    /// <summary>[MemoryPackable(GenerateType.Collection)]: the first of IDictionary, ISet, ICollection it implements.</summary>
    private string ForGeneratedCollection(INamedTypeSymbol type)
    {
        INamedTypeSymbol? dictionary = null;
        INamedTypeSymbol? set = null;
        INamedTypeSymbol? collection = null;
        foreach (INamedTypeSymbol item in type.AllInterfaces)
        {
            switch (MetadataName(item.OriginalDefinition))
            {
                case "System.Collections.Generic.IDictionary`2": dictionary = item; break;
                case "System.Collections.Generic.ISet`1": set = item; break;
                case "System.Collections.Generic.ICollection`1": collection = item; break;
            }
        }

        if (dictionary is not null)
        {
            return $"{Schema}.Sequence({Pair(dictionary.TypeArguments[0], dictionary.TypeArguments[1])})";
        }

        INamedTypeSymbol? elements = set ?? collection;
        return elements is null ? Unchecked(type) : $"{Schema}.Sequence({For(elements.TypeArguments[0])})";
    }

    private string ForMember(ISymbol member)
    {
        ITypeSymbol type = member is IPropertySymbol property ? property.Type : ((IFieldSymbol)member).Type;
        foreach (AttributeData attribute in member.GetAttributes())
        {
            if (!IsCustomFormatter(attribute.AttributeClass))
            {
                continue;
            }

            string name = MetadataName(attribute.AttributeClass!.OriginalDefinition);
            return name switch
            {
                "MemoryPack.Utf8StringFormatterAttribute" or "MemoryPack.Utf16StringFormatterAttribute" or
                    "MemoryPack.InternStringFormatterAttribute" => $"{Schema}.String",
                "MemoryPack.MemoryPoolFormatterAttribute`1" or "MemoryPack.ReadOnlyMemoryPoolFormatterAttribute`1" =>
                    $"{Schema}.Sequence({For(attribute.AttributeClass.TypeArguments[0])})",
                "MemoryPack.OrdinalIgnoreCaseStringDictionaryFormatter`1" =>
                    $"{Schema}.Sequence({Schema}.Tuple({Schema}.String, {For(attribute.AttributeClass.TypeArguments[0])}))",
                // The uncompressed length, then the compressed bytes as a byte collection (a negative count would move
                // MemoryPack's reader back and hand the native decoder a length near 2^64).
                "MemoryPack.BrotliFormatterAttribute" => $"{Schema}.Tuple({Schema}.Fixed<int>(), {Schema}.Sequence({Schema}.Fixed<byte>()))",
                _ => Unchecked(type), // other compression and user formatters: TypedZmq cannot see their layout
            };
        }

        return For(type);
    }

    /// <summary>
    /// The members MemoryPack serializes, with their order numbers, sorted as MemoryPack sorts them: fields and
    /// properties from the base type down, overrides and hidden members once, public or [MemoryPackInclude] and not
    /// [MemoryPackIgnore], no set-only properties or indexers; ordered by [MemoryPackOrder] or declaration.
    /// </summary>
    private static List<(int Order, ISymbol Member)> MemoryPackMembers(INamedTypeSymbol type)
    {
        var all = new List<ISymbol>();
        CollectMembers(type, all);

        // Of members with the same name (a `new` member hides the base one), keep the last, at its own position.
        var lastByName = new Dictionary<string, int>();
        for (int i = 0; i < all.Count; i++)
        {
            lastByName[all[i].Name] = i;
        }

        var selected = new List<ISymbol>();
        for (int i = 0; i < all.Count; i++)
        {
            ISymbol member = all[i];
            if (lastByName[member.Name] != i)
            {
                continue;
            }

            bool ignore = HasAttribute(member, "MemoryPack.MemoryPackIgnoreAttribute");
            bool include = HasAttribute(member, "MemoryPack.MemoryPackIncludeAttribute");
            if (ignore || (!include && member.DeclaredAccessibility != Accessibility.Public))
            {
                continue;
            }

            if (member is IPropertySymbol property && ((property.GetMethod is null && property.SetMethod is not null) || property.IsIndexer))
            {
                continue;
            }

            selected.Add(member);
        }

        var ordered = new List<(int Order, int Index, ISymbol Member)>();
        for (int i = 0; i < selected.Count; i++)
        {
            int order = i;
            AttributeData? explicitOrder = FindAttribute(selected[i], "MemoryPack.MemoryPackOrderAttribute");
            if (explicitOrder is { ConstructorArguments.Length: > 0 } && explicitOrder.ConstructorArguments[0].Value is int value)
            {
                order = value;
            }

            ordered.Add((order, i, selected[i]));
        }

        return ordered.OrderBy(static m => m.Order).ThenBy(static m => m.Index).Select(static m => (m.Order, m.Member)).ToList();
    }

    private static void CollectMembers(INamedTypeSymbol type, List<ISymbol> into)
    {
        if (type.BaseType is { } baseType)
        {
            CollectMembers(baseType, into);
        }

        foreach (ISymbol member in type.GetMembers())
        {
            if (member.IsOverride)
            {
                continue;
            }

            if (member is IFieldSymbol or IPropertySymbol && !member.IsStatic && !member.IsImplicitlyDeclared && member.CanBeReferencedByName)
            {
                into.Add(member);
            }
        }
    }

    private string Pair(ITypeSymbol key, ITypeSymbol value)
    {
        INamedTypeSymbol? pair = _compilation.GetTypeByMetadataName("System.Collections.Generic.KeyValuePair`2")?.Construct(key, value);
        return pair is not null && pair.IsUnmanagedType && IsAccessible(pair)
            ? $"{Schema}.Fixed<{pair.ToDisplayString(FixedFormat)}>()"
            : $"{Schema}.Tuple({For(key)}, {For(value)})";
    }

    private string Grouping(ITypeSymbol key, ITypeSymbol element) =>
        $"{Schema}.Record({For(key)}, {Schema}.Sequence({For(element)}))";

    /// <summary>
    /// Gives a named schema a readable, unique field (the type's name) and a slot among the definitions, so that types
    /// reached while its members are worked out can refer to it; returns the expression that reads it.
    /// </summary>
    private string Reserve(INamedTypeSymbol type, out int slot)
    {
        string name = FieldName(type);
        for (int n = 2; _fields.Contains(name); n++)
        {
            name = FieldName(type) + n.ToString(CultureInfo.InvariantCulture);
        }

        _fields.Add(name);
        string reference = "Schemas." + name;
        _named.Add(type, reference);
        slot = _definitions.Count;
        _definitions.Add(new SchemaDefinition(name, "", "", ""));
        return reference;
    }

    private void Complete(int slot, string fieldType, string factory, string defineArguments) =>
        _definitions[slot] = _definitions[slot] with { FieldType = fieldType, Factory = factory, DefineArguments = defineArguments };

    private void NotePackable(ITypeSymbol type)
    {
        if (type is INamedTypeSymbol named &&
            !_named.ContainsKey(named) &&
            FindAttribute(named, "MemoryPack.MemoryPackableAttribute") is not null &&
            !named.TypeArguments.Any(static a => a is ITypeParameterSymbol) &&
            IsAccessible(named))
        {
            string name = named.ToDisplayString(TypeOfFormat);
            if (!_packable.Contains(name))
            {
                _packable.Add(name);
            }
        }
    }

    private static string FieldName(INamedTypeSymbol type)
    {
        var name = new System.Text.StringBuilder(type.Name);
        foreach (ITypeSymbol argument in type.TypeArguments)
        {
            name.Append('_').Append(argument.Name.Length > 0 ? argument.Name : "T");
        }

        for (int i = 0; i < name.Length; i++)
        {
            if (!char.IsLetterOrDigit(name[i]) && name[i] != '_')
            {
                name[i] = '_';
            }
        }

        return name.ToString();
    }

    private bool IsAccessible(ITypeSymbol type) => _compilation.IsSymbolAccessibleWithin(type, _compilation.Assembly);

    private static string Unchecked(ITypeSymbol type) => $"{Schema}.Unchecked({Literal(type)})";

    private static string Literal(ITypeSymbol type) =>
        "\"" + type.ToDisplayString(ContractSymbols.IdFormat).Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";

    private const int GenerateObject = 0;
    private const int GenerateVersionTolerant = 1;
    private const int GenerateCircularReference = 2;
    private const int GenerateCollection = 3;
    private const int GenerateUnion = 5;

    /// <summary>
    /// The GenerateType of [MemoryPackable], [MemoryPackable(GenerateType)], [MemoryPackable(SerializeLayout)] or both. The
    /// layout needs no reading: the members' order numbers already carry it.
    /// </summary>
    private static int ReadGenerateType(AttributeData attribute)
    {
        foreach (TypedConstant argument in attribute.ConstructorArguments)
        {
            if (argument.Type?.ToDisplayString() == "MemoryPack.GenerateType" && argument.Value is int kind)
            {
                return kind;
            }
        }

        return GenerateObject;
    }

    private static bool IsCustomFormatter(INamedTypeSymbol? attribute)
    {
        for (INamedTypeSymbol? type = attribute; type is not null; type = type.BaseType)
        {
            if (MetadataName(type.OriginalDefinition) == "MemoryPack.MemoryPackCustomFormatterAttribute`2")
            {
                return true;
            }
        }

        return false;
    }

    private static AttributeData? FindAttribute(ISymbol symbol, string fullName) =>
        symbol.GetAttributes().FirstOrDefault(a => a.AttributeClass?.ToDisplayString() == fullName);

    private static bool HasAttribute(ISymbol symbol, string fullName) => FindAttribute(symbol, fullName) is not null;

    private static string MetadataName(INamedTypeSymbol type)
    {
        string name = type.MetadataName;
        for (INamedTypeSymbol? outer = type.ContainingType; outer is not null; outer = outer.ContainingType)
        {
            name = outer.MetadataName + "+" + name;
        }

        return type.ContainingNamespace is { IsGlobalNamespace: false } ns ? ns.ToDisplayString() + "." + name : name;
    }
}
