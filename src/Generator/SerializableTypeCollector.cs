using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace TypedZmq.Generator;

/// <summary>
/// Collects the <c>[MemoryPackable]</c> types a service's signatures reach: the types themselves, their serialized
/// members, array elements and generic arguments, recursively. Registering them up front spares MemoryPack the
/// reflection it would otherwise use to find their formatters, which NativeAOT trims away.
/// </summary>
internal sealed class SerializableTypeCollector
{
    private static readonly SymbolDisplayFormat TypeOfFormat = SymbolDisplayFormat.FullyQualifiedFormat
        .RemoveMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    private readonly Compilation _compilation;
    private readonly HashSet<ITypeSymbol> _seen = new(SymbolEqualityComparer.Default);

    public SerializableTypeCollector(Compilation compilation) => _compilation = compilation;

    /// <summary>The types found, fully qualified, in the order first reached.</summary>
    public List<string> Found { get; } = new();

    public void Visit(ITypeSymbol? type)
    {
        if (type is null || !_seen.Add(type))
        {
            return;
        }

        switch (type)
        {
            case IArrayTypeSymbol array:
                Visit(array.ElementType);
                break;
            case INamedTypeSymbol named:
                foreach (ITypeSymbol argument in named.TypeArguments)
                {
                    Visit(argument);
                }

                if (IsMemoryPackable(named) &&
                    !named.TypeArguments.Any(static a => a is ITypeParameterSymbol) &&
                    _compilation.IsSymbolAccessibleWithin(named, _compilation.Assembly))
                {
                    Found.Add(named.ToDisplayString(TypeOfFormat));
                    foreach (ISymbol member in named.GetMembers())
                    {
                        if (member.IsStatic)
                        {
                            continue;
                        }

                        Visit(member switch
                        {
                            IPropertySymbol property => property.Type,
                            IFieldSymbol field => field.Type,
                            _ => null,
                        });
                    }
                }

                break;
        }
    }

    private static bool IsMemoryPackable(INamedTypeSymbol type) =>
        type.GetAttributes().Any(static a => a.AttributeClass?.ToDisplayString() == "MemoryPack.MemoryPackableAttribute");
}
