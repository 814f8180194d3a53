using System.Collections.Concurrent;
using System.Globalization;
using Acme.Plain;

namespace Acme.Integration.Deep.Nested;

/// <summary>The implementation of <see cref="IOrders"/> the tests host.</summary>
public sealed class Orders : IOrders
{
    private readonly ConcurrentDictionary<Guid, Order> _store = new();

    public int Version() => 3;

    public void Ping()
    {
    }

    public string Keywords(string @class, int @event) => string.Create(CultureInfo.InvariantCulture, $"{@class}:{@event}");

    public string Pad(string text, char padding = '*', int width = 5)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.PadRight(width, padding);
    }

    public string Repeat(string text, int times) => string.Concat(Enumerable.Repeat(text, times));

    public string Repeat(string text) => text;

    public string? Maybe(string? text, int? number) =>
        text is null && number is null ? null : string.Create(CultureInfo.InvariantCulture, $"{text ?? "-"}/{number?.ToString(CultureInfo.InvariantCulture) ?? "-"}");

    public Order Scale(Order order)
    {
        ArgumentNullException.ThrowIfNull(order);
        return order with { Lines = order.Lines.Select(l => l with { Quantity = l.Quantity * 2 }).ToList() };
    }

    public Dictionary<string, List<int>> Collections(int[] numbers, List<string> words, Dictionary<string, int> counts, Priority priority)
    {
        ArgumentNullException.ThrowIfNull(words);
        ArgumentNullException.ThrowIfNull(counts);
        var result = new Dictionary<string, List<int>>(StringComparer.Ordinal)
        {
            ["numbers"] = [.. numbers],
            ["words"] = words.Select(w => w.Length).ToList(),
            ["priority"] = [(int)priority],
        };
        foreach (KeyValuePair<string, int> count in counts)
        {
            result[count.Key] = [count.Value];
        }

        return result;
    }

    public int Seven() => 7;

    public async Task StoreAsync(Order order)
    {
        ArgumentNullException.ThrowIfNull(order);
        await Task.Yield();
        _store[order.Id] = order;
    }

    public async Task<Order?> LoadAsync(Guid id, CancellationToken cancellationToken = default)
    {
        await Task.Delay(1, cancellationToken).ConfigureAwait(false);
        return _store.TryGetValue(id, out Order? order) ? order : null;
    }

    public ValueTask ClearAsync()
    {
        _store.Clear();
        return ValueTask.CompletedTask;
    }

    public ValueTask<int> CountAsync() => new(_store.Count);

    /// <inheritdoc />
    [Obsolete("Use Collections instead.")]
    public int OnOrder(string sku) => _store.Values.SelectMany(o => o.Lines).Where(l => l.Sku == sku).Sum(l => l.Quantity);
}

/// <summary>The implementation of the plain-assembly contract.</summary>
public sealed class PlainCalculator : IPlainCalculator
{
    public long Multiply(int a, int b) => (long)a * b;

    public Task<string> DescribeAsync(int value) =>
        Task.FromResult(value % 2 == 0 ? "even" : "odd");
}
