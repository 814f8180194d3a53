using TypedZmq.Tests.Contracts;
using TypedZmq.Tests.Infrastructure;

namespace TypedZmq.Tests;

/// <summary>Every supported method shape round-trips through a generated proxy and dispatcher, over tcp and inproc.</summary>
public sealed class MethodShapeTests : TransportTheories
{
    [Theory]
    [MemberData(nameof(Setups))]
    public void Void_without_parameters_runs_on_the_server(Transport transport, RpcChannelKind channel)
    {
        using var server = TestServer.Start(transport);
        IShapes shapes = server.Proxy(channel: channel);

        shapes.Ping();
        shapes.Ping();

        Assert.Equal(2, server.Implementation.Pings);
    }

    [Theory]
    [MemberData(nameof(Setups))]
    public void Void_with_a_parameter_delivers_the_argument(Transport transport, RpcChannelKind channel)
    {
        using var server = TestServer.Start(transport);

        server.Proxy(channel: channel).Remember("kept");

        Assert.Equal(["kept"], server.Implementation.Remembered);
    }

    [Theory]
    [MemberData(nameof(Setups))]
    public void Value_result_depends_on_every_argument(Transport transport, RpcChannelKind channel)
    {
        using var server = TestServer.Start(transport);
        IShapes shapes = server.Proxy(channel: channel);

        Assert.Equal(5, shapes.Add(2, 3));
        Assert.Equal(-1, shapes.Add(int.MaxValue, int.MinValue));
    }

    [Theory]
    [MemberData(nameof(Setups))]
    public void Null_and_empty_strings_stay_distinct(Transport transport, RpcChannelKind channel)
    {
        using var server = TestServer.Start(transport);
        IShapes shapes = server.Proxy(channel: channel);

        Assert.Null(shapes.Echo(null));
        Assert.Equal("", shapes.Echo(""));
        Assert.Equal("héllo wörld ✓ 𝄞", shapes.Echo("héllo wörld ✓ 𝄞"));
    }

    [Theory]
    [MemberData(nameof(Setups))]
    public void User_records_round_trip_and_null_records_stay_null(Transport transport, RpcChannelKind channel)
    {
        using var server = TestServer.Start(transport);
        IShapes shapes = server.Proxy(channel: channel);

        Person? ada = shapes.FindPerson(1);

        Assert.Equal(new Person("Ada", 36, ["math", "engines"], new Address("London", null)), ada);
        Assert.Null(shapes.FindPerson(2));
    }

    [Theory]
    [MemberData(nameof(Setups))]
    public void Arrays_lists_and_dictionaries_round_trip(Transport transport, RpcChannelKind channel)
    {
        using var server = TestServer.Start(transport);
        IShapes shapes = server.Proxy(channel: channel);

        Assert.Equal([3, 4, 5], shapes.Range(3, 3)!);
        Assert.Empty(shapes.Range(3, 0)!);
        Assert.Null(shapes.Range(0, -1));
        Assert.Equal(["a", "b", "", "c"], shapes.Split("a,b,,c", ','));
        Assert.Equal(
            new Dictionary<string, int> { ["x"] = 2, ["y"] = 1 },
            shapes.Histogram(["x", "y", "x"]));
    }

    [Theory]
    [MemberData(nameof(Setups))]
    public async Task Task_completes_after_the_server_ran_the_method(Transport transport, RpcChannelKind channel)
    {
        using var server = TestServer.Start(transport);

        await server.Proxy(channel: channel).RememberAsync("async");

        Assert.Equal(["async"], server.Implementation.Remembered);
    }

    [Theory]
    [MemberData(nameof(Setups))]
    public async Task Task_of_T_returns_the_result_and_the_token_is_not_sent(Transport transport, RpcChannelKind channel)
    {
        using var server = TestServer.Start(transport);
        using var cts = new CancellationTokenSource();

        int length = await server.Proxy(channel: channel).LengthAsync("four", cts.Token);

        Assert.Equal(4, length);
    }

    [Theory]
    [MemberData(nameof(Setups))]
    public async Task ValueTask_completes_after_the_server_ran_the_method(Transport transport, RpcChannelKind channel)
    {
        using var server = TestServer.Start(transport);
        IShapes shapes = server.Proxy(channel: channel);
        shapes.Remember("gone soon");

        await shapes.ForgetAsync();

        Assert.Empty(server.Implementation.Remembered);
        Assert.Equal(1, server.Implementation.Forgets);
    }

    [Theory]
    [MemberData(nameof(Setups))]
    public async Task ValueTask_of_T_returns_a_record_built_from_two_arguments(Transport transport, RpcChannelKind channel)
    {
        using var server = TestServer.Start(transport);
        var person = new Person("Bob", 40, ["x"], null);

        Person renamed = await server.Proxy(channel: channel).RenameAsync(person, "Robert");

        Assert.Equal(person with { Name = "Robert" }, renamed);
    }

    [Fact]
    public void Large_payloads_round_trip()
    {
        using var server = TestServer.Start(Transport.Tcp);
        string big = new('z', 1_000_000);

        Assert.Equal(big, server.Proxy().Echo(big));
    }
}
