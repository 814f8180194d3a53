using MemoryPack;
using TypedZmq;

namespace Versioned;

/// <summary>Version 1 of the inventory contract, as it shipped.</summary>
[RpcService]
public interface IInventory
{
    int Count(string sku);

    Stock Describe(string sku);

    Line Echo(Line line);
}

/// <summary>Version-tolerant from its first release, so later versions may add members.</summary>
[MemoryPackable(GenerateType.VersionTolerant)]
public sealed partial class Stock
{
    [MemoryPackOrder(0)]
    public string Sku { get; set; } = "";
}

/// <summary>The default layout: frozen once shipped.</summary>
[MemoryPackable]
public sealed partial record Line(string Sku);

public sealed class Inventory : IInventory
{
    public int Count(string sku) => sku.Length;

    public Stock Describe(string sku) => new() { Sku = sku };

    public Line Echo(Line line) => line;
}
