using MemoryPack;
using TypedZmq;

[assembly: RpcServiceFor(typeof(Acme.Plain.IPlainCalculator))]

namespace Acme.Integration.Deep.Nested;

/// <summary>How urgent an order is.</summary>
public enum Priority
{
    /// <summary>Whenever.</summary>
    Low,

    /// <summary>Soon.</summary>
    Normal,

    /// <summary>Now.</summary>
    High,
}

/// <summary>An order line.</summary>
/// <param name="Sku">The article.</param>
/// <param name="Quantity">How many.</param>
/// <param name="Note">An optional note.</param>
[MemoryPackable]
public sealed partial record Line(string Sku, int Quantity, string? Note);

/// <summary>An order.</summary>
/// <param name="Id">The order id.</param>
/// <param name="Lines">What was ordered.</param>
/// <param name="Priority">How urgent it is.</param>
/// <param name="Tags">Free-form tags.</param>
[MemoryPackable]
public sealed partial record Order(Guid Id, IReadOnlyList<Line> Lines, Priority Priority, Dictionary<string, string> Tags);

/// <summary>Members every versioned service has.</summary>
public interface IVersioned
{
    /// <summary>The contract version.</summary>
    /// <returns>The version.</returns>
    int Version();
}

/// <summary>A contract with every shape TypedZmq supports.</summary>
[RpcService("acme.orders", Id = 0xAC3E0001)]
public interface IOrders : IVersioned
{
    /// <summary>Checks liveness.</summary>
    void Ping();

    /// <summary>Parameters named with C# keywords.</summary>
    /// <param name="class">A keyword-named text.</param>
    /// <param name="event">A keyword-named number.</param>
    /// <returns>Both, joined.</returns>
#pragma warning disable CA1716 // Deliberate: keyword parameter names are a shape the generator must handle.
    string Keywords(string @class, int @event);
#pragma warning restore CA1716

    /// <summary>Optional parameters: the defaults declared here are what the caller sends.</summary>
    /// <param name="text">The text.</param>
    /// <param name="padding">The padding character.</param>
    /// <param name="width">The total width.</param>
    /// <returns>The text, padded on the right.</returns>
    string Pad(string text, char padding = '*', int width = 5);

    /// <summary>An overload of <see cref="Repeat(string)"/>.</summary>
    /// <param name="text">The text.</param>
    /// <param name="times">How often.</param>
    /// <returns>The text repeated.</returns>
    string Repeat(string text, int times);

    /// <summary>An overload of <see cref="Repeat(string, int)"/>: a different method id.</summary>
    /// <param name="text">The text.</param>
    /// <returns>The text once.</returns>
    string Repeat(string text);

    /// <summary>Nullable reference and value types.</summary>
    /// <param name="text">Maybe text.</param>
    /// <param name="number">Maybe a number.</param>
    /// <returns>What was given, described.</returns>
    string? Maybe(string? text, int? number);

    /// <summary>Records in and out.</summary>
    /// <param name="order">The order.</param>
    /// <returns>The order with its quantities doubled.</returns>
    Order Scale(Order order);

    /// <summary>Arrays, lists, dictionaries and enums.</summary>
    /// <param name="numbers">Numbers.</param>
    /// <param name="words">Words.</param>
    /// <param name="counts">Counts by key.</param>
    /// <param name="priority">A priority.</param>
    /// <returns>A summary per key.</returns>
#pragma warning disable CA1002 // Deliberate: List<T> is a shape the contract must carry, whatever library design rules prefer.
    Dictionary<string, List<int>> Collections(int[] numbers, List<string> words, Dictionary<string, int> counts, Priority priority);
#pragma warning restore CA1002

    /// <summary>An explicit method id.</summary>
    /// <returns>Always 7.</returns>
    [RpcMethod(Id = 7)]
    int Seven();

    /// <summary>Task.</summary>
    /// <param name="order">The order to store.</param>
    /// <returns>A task.</returns>
    Task StoreAsync(Order order);

    /// <summary>Task of T with a cancellation token.</summary>
    /// <param name="id">The order id.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The stored order, if any.</returns>
    Task<Order?> LoadAsync(Guid id, CancellationToken cancellationToken = default);

    /// <summary>ValueTask.</summary>
    /// <returns>A value task.</returns>
    ValueTask ClearAsync();

    /// <summary>ValueTask of T.</summary>
    /// <returns>How many orders are stored.</returns>
    ValueTask<int> CountAsync();

    /// <summary>An obsolete method: its generated proxy and dispatcher must still build with warnings as errors.</summary>
    /// <param name="sku">The article.</param>
    /// <returns>How many are on order.</returns>
    [Obsolete("Use Collections instead.")]
    int OnOrder(string sku);
}

/// <summary>Named like what the generator used to emit next to <see cref="IOrders"/>: the user's own type must win.</summary>
public sealed class OrdersProxy
{
    /// <summary>A marker.</summary>
    public const string Owner = "user";
}

/// <summary>Named like one of the generated types: it must not collide with them.</summary>
public sealed class Proxy
{
    /// <summary>A marker.</summary>
    public const string Owner = "user";
}
