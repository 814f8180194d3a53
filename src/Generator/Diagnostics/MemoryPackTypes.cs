using System.Collections.Generic;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;

namespace TypedZmq.Generator.Diagnostics;

/// <summary>
/// Whether MemoryPack can serialize a type, as far as the compiler can tell: its built-in formatters, collections of
/// serializable types, and types marked for MemoryPack's own generator. A formatter registered at run time is
/// invisible here, which is why TZMQ0010 is a warning.
/// </summary>
internal static class MemoryPackTypes
{
    private static readonly ImmutableHashSet<string> KnownTypes = ImmutableHashSet.Create(
        "System.Guid", "System.DateTimeOffset", "System.TimeSpan", "System.DateOnly", "System.TimeOnly", "System.Half",
        "System.Int128", "System.UInt128", "System.Numerics.BigInteger", "System.Numerics.Complex", "System.Uri",
        "System.Version", "System.Text.Rune", "System.Text.StringBuilder", "System.Collections.BitArray",
        "System.Globalization.CultureInfo", "System.TimeZoneInfo", "System.Type");

    private static readonly ImmutableHashSet<string> KnownGenericTypes = ImmutableHashSet.Create(
        "System.Nullable", "System.Lazy", "System.Memory", "System.ReadOnlyMemory", "System.ArraySegment",
        "System.Tuple", "System.ValueTuple", "System.Collections.Generic.KeyValuePair",
        "System.Collections.Generic.List", "System.Collections.Generic.Stack", "System.Collections.Generic.Queue",
        "System.Collections.Generic.LinkedList", "System.Collections.Generic.HashSet", "System.Collections.Generic.SortedSet",
        "System.Collections.Generic.PriorityQueue", "System.Collections.Generic.Dictionary",
        "System.Collections.Generic.SortedDictionary", "System.Collections.Generic.SortedList",
        "System.Collections.Generic.IEnumerable", "System.Collections.Generic.ICollection",
        "System.Collections.Generic.IReadOnlyCollection", "System.Collections.Generic.IList",
        "System.Collections.Generic.IReadOnlyList", "System.Collections.Generic.IDictionary",
        "System.Collections.Generic.IReadOnlyDictionary", "System.Collections.Generic.ISet",
        "System.Collections.Generic.IReadOnlySet", "System.Linq.ILookup", "System.Linq.IGrouping",
        "System.Collections.ObjectModel.Collection", "System.Collections.ObjectModel.ReadOnlyCollection",
        "System.Collections.ObjectModel.ObservableCollection", "System.Collections.ObjectModel.ReadOnlyObservableCollection",
        "System.Collections.ObjectModel.ReadOnlyDictionary",
        "System.Collections.Concurrent.ConcurrentDictionary", "System.Collections.Concurrent.ConcurrentQueue",
        "System.Collections.Concurrent.ConcurrentStack", "System.Collections.Concurrent.ConcurrentBag",
        "System.Collections.Concurrent.BlockingCollection",
        "System.Collections.Immutable.ImmutableArray", "System.Collections.Immutable.ImmutableList",
        "System.Collections.Immutable.ImmutableQueue", "System.Collections.Immutable.ImmutableStack",
        "System.Collections.Immutable.ImmutableHashSet", "System.Collections.Immutable.ImmutableSortedSet",
        "System.Collections.Immutable.ImmutableDictionary", "System.Collections.Immutable.ImmutableSortedDictionary",
        "System.Collections.Immutable.IImmutableList", "System.Collections.Immutable.IImmutableQueue",
        "System.Collections.Immutable.IImmutableStack", "System.Collections.Immutable.IImmutableSet",
        "System.Collections.Immutable.IImmutableDictionary");

    private static readonly ImmutableHashSet<string> MarkerAttributes = ImmutableHashSet.Create(
        "MemoryPack.MemoryPackableAttribute", "MemoryPack.MemoryPackUnionAttribute", "MemoryPack.MemoryPackAllowSerializeAttribute",
        "MemoryPack.MemoryPackUnionFormatterAttribute");

    public static bool IsSerializable(ITypeSymbol type) => IsSerializable(type, new HashSet<ITypeSymbol>(SymbolEqualityComparer.Default));

    private static bool IsSerializable(ITypeSymbol type, HashSet<ITypeSymbol> visiting)
    {
        if (!visiting.Add(type))
        {
            return true;
        }

        try
        {
            switch (type)
            {
                case IArrayTypeSymbol array:
                    return IsSerializable(array.ElementType, visiting);
                case ITypeParameterSymbol or IPointerTypeSymbol or IFunctionPointerTypeSymbol or IErrorTypeSymbol:
                    // Type parameters and error types are reported elsewhere (or by the compiler).
                    return type is not (IPointerTypeSymbol or IFunctionPointerTypeSymbol);
                case INamedTypeSymbol named:
                    return IsSerializable(named, visiting);
                default:
                    return false;
            }
        }
        finally
        {
            visiting.Remove(type);
        }
    }

    private static bool IsSerializable(INamedTypeSymbol type, HashSet<ITypeSymbol> visiting)
    {
        // MemoryPack copies any unmanaged struct (no references inside) as raw memory.
        if (type.TypeKind == TypeKind.Enum || type.IsUnmanagedType || IsPrimitive(type.SpecialType))
        {
            return true;
        }

        foreach (AttributeData attribute in type.GetAttributes())
        {
            if (attribute.AttributeClass is { } attributeClass && MarkerAttributes.Contains(attributeClass.ToDisplayString()))
            {
                return true;
            }
        }

        string name = type.OriginalDefinition.ContainingNamespace is { IsGlobalNamespace: false } ns
            ? ns.ToDisplayString() + "." + type.OriginalDefinition.Name
            : type.OriginalDefinition.Name;
        if (!type.IsGenericType)
        {
            return KnownTypes.Contains(name);
        }

        if (!KnownGenericTypes.Contains(name))
        {
            return false;
        }

        foreach (ITypeSymbol argument in type.TypeArguments)
        {
            if (!IsSerializable(argument, visiting))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsPrimitive(SpecialType type) => type is
        SpecialType.System_Boolean or SpecialType.System_Char or SpecialType.System_SByte or SpecialType.System_Byte or
        SpecialType.System_Int16 or SpecialType.System_UInt16 or SpecialType.System_Int32 or SpecialType.System_UInt32 or
        SpecialType.System_Int64 or SpecialType.System_UInt64 or SpecialType.System_Single or SpecialType.System_Double or
        SpecialType.System_Decimal or SpecialType.System_String or SpecialType.System_DateTime;
}
