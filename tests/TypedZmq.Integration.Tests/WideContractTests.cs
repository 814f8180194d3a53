using Acme.Integration.Deep.Nested;
using Acme.Plain;

namespace TypedZmq.Integration.Tests;

/// <summary>Every method of the wide contract, and of a plain interface from another assembly, called end to end.</summary>
public sealed class WideContractTests : IDisposable
{
    private readonly RpcServer _server;
    private readonly RpcClient _client;

    public WideContractTests()
    {
        string endpoint = $"inproc://typedzmq-wide-{Guid.NewGuid():N}";
        _server = new RpcServer(endpoint);
        _server.AddService<IOrders>(new Orders()).AddService<IPlainCalculator>(new PlainCalculator());
        _server.Start();
        _client = new RpcClient(endpoint);
    }

    private IOrders Orders => _client.CreateProxy<IOrders>();

    [Fact]
    public void Inherited_void_keyword_default_and_overloaded_methods()
    {
        IOrders orders = Orders;

        orders.Ping();
        Assert.Equal(3, orders.Version());
        Assert.Equal("x:5", orders.Keywords("x", 5));
        Assert.Equal("a****", orders.Pad("a"));
        Assert.Equal("a--", orders.Pad("a", '-', 3));
        Assert.Equal("ababab", orders.Repeat("ab", 3));
        Assert.Equal("ab", orders.Repeat("ab"));
        Assert.Equal(7, orders.Seven());
    }

    [Fact]
    public async Task An_obsolete_method_is_generated_and_called_and_user_types_named_like_generated_ones_stay_the_users()
    {
        await Orders.StoreAsync(new Order(Guid.NewGuid(), [new Line("pen", 3, null)], Priority.Low, []));

#pragma warning disable CS0618 // Deliberate: calling the obsolete method is the point.
        Assert.Equal(3, Orders.OnOrder("pen"));
#pragma warning restore CS0618
        Assert.Equal("user", OrdersProxy.Owner);
        Assert.Equal("user", Proxy.Owner);
    }

    [Fact]
    public void Nullable_annotations_travel_as_nulls()
    {
        Assert.Null(Orders.Maybe(null, null));
        Assert.Equal("a/-", Orders.Maybe("a", null));
        Assert.Equal("-/4", Orders.Maybe(null, 4));
    }

    [Fact]
    public void Records_collections_and_enums_round_trip()
    {
        var order = new Order(
            Guid.NewGuid(),
            [new Line("apple", 2, null), new Line("pear", 1, "ripe")],
            Priority.High,
            new Dictionary<string, string>(StringComparer.Ordinal) { ["channel"] = "web" });

        Order doubled = Orders.Scale(order);

        Assert.Equal(order.Id, doubled.Id);
        Assert.Equal([4, 2], doubled.Lines.Select(l => l.Quantity));
        Assert.Equal("ripe", doubled.Lines[1].Note);
        Assert.Equal(Priority.High, doubled.Priority);
        Assert.Equal("web", doubled.Tags["channel"]);

        Dictionary<string, List<int>> summary = Orders.Collections([1, 2], ["abc"], new Dictionary<string, int>(StringComparer.Ordinal) { ["k"] = 9 }, Priority.Low);
        Assert.Equal([1, 2], summary["numbers"]);
        Assert.Equal([3], summary["words"]);
        Assert.Equal([9], summary["k"]);
        Assert.Equal([0], summary["priority"]);
    }

    [Fact]
    public async Task Task_and_ValueTask_methods()
    {
        IOrders orders = Orders;
        var order = new Order(Guid.NewGuid(), [], Priority.Normal, []);

        await orders.StoreAsync(order);
        Assert.Equal(1, await orders.CountAsync());
        Assert.Equal(order.Id, (await orders.LoadAsync(order.Id, TestContext.Current.CancellationToken))?.Id);
        Assert.Null(await orders.LoadAsync(Guid.NewGuid(), TestContext.Current.CancellationToken));
        await orders.ClearAsync();
        Assert.Equal(0, await orders.CountAsync());
    }

    [Fact]
    public async Task A_plain_interface_from_an_assembly_without_TypedZmq_is_served_and_called()
    {
        IPlainCalculator calculator = _client.CreateProxy<IPlainCalculator>();

        Assert.Equal(6_000_000_000L, calculator.Multiply(60_000, 100_000));
        Assert.Equal("odd", await calculator.DescribeAsync(3));
    }

    public void Dispose()
    {
        _client.Dispose();
        _server.Dispose();
    }
}
