using MemoryPack;
using TypedZmq;

namespace Versioned;

/// <summary>
/// Version 2 of the inventory contract: a method added (allowed), a member added to the version-tolerant type
/// (allowed), and a member added to the default-layout record (a break TZMQ0020 would report; here on purpose, to show
/// what old peers see).
/// </summary>
[RpcService]
public interface IInventory
{
    int Count(string sku);

    Stock Describe(string sku);

    Line Echo(Line line);

    string Where(string sku);
}

[MemoryPackable(GenerateType.VersionTolerant)]
public sealed partial class Stock
{
    [MemoryPackOrder(0)]
    public string Sku { get; set; } = "";

    [MemoryPackOrder(1)]
    public string Location { get; set; } = "";
}

[MemoryPackable]
public sealed partial record Line(string Sku, int Quantity);

public sealed class Inventory : IInventory
{
    public int Count(string sku) => sku.Length;

    public Stock Describe(string sku) => new() { Sku = sku, Location = "aisle 7" };

    public Line Echo(Line line) => line;

    public string Where(string sku) => "aisle 7";
}
