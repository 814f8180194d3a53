using TypedZmq.Tests.Contracts;
using TypedZmq.Tests.Infrastructure;

namespace TypedZmq.Tests;

/// <summary>What a caller sees when the implementation throws or the server lacks the service or method.</summary>
public sealed class ErrorTests : TransportTheories
{
    [Theory]
    [MemberData(nameof(Setups))]
    public void A_throwing_implementation_becomes_RemoteError_with_type_and_message(Transport transport, RpcChannelKind channel)
    {
        using var server = TestServer.Start(transport);
        IShapes shapes = server.Proxy(channel: channel);

        var error = Assert.Throws<RpcException>(() => shapes.Fail("boom"));

        Assert.Equal(RpcStatus.RemoteError, error.Status);
        Assert.Equal("System.InvalidOperationException", error.RemoteExceptionType);
        Assert.Contains("boom", error.Message);
        Assert.Contains("IShapes.Fail", error.Message);
        Assert.Null(error.RemoteStackTrace);
        Assert.Equal(5, shapes.Add(2, 3));
    }

    [Fact]
    public async Task An_async_implementation_that_throws_becomes_RemoteError()
    {
        using var server = TestServer.Start(Transport.Inproc);
        IShapes shapes = server.Proxy();

        var error = await Assert.ThrowsAsync<RpcException>(() => shapes.FailAsync("async boom"));

        Assert.Equal(RpcStatus.RemoteError, error.Status);
        Assert.Equal("System.ArgumentException", error.RemoteExceptionType);
        Assert.Contains("async boom", error.Message);
        Assert.Equal(5, shapes.Add(2, 3));
    }

    [Fact]
    public void The_stack_trace_travels_only_when_the_server_opts_in()
    {
        using var server = TestServer.Start(Transport.Inproc, new RpcServerOptions { Endpoint = "unused", IncludeExceptionDetails = true });

        var error = Assert.Throws<RpcException>(() => server.Proxy().Fail("traced"));

        Assert.NotNull(error.RemoteStackTrace);
        Assert.Contains(nameof(Shapes.Fail), error.RemoteStackTrace);
    }

    [Theory]
    [MemberData(nameof(Setups))]
    public void A_method_the_server_does_not_have_is_Unimplemented_and_the_server_keeps_serving(Transport transport, RpcChannelKind channel)
    {
        using var server = TestServer.Start(transport);
        IShapesNext newer = server.Client(channel: channel).CreateProxy<IShapesNext>();

        var error = Assert.Throws<RpcException>(() => newer.AddedLater("x"));

        Assert.Equal(RpcStatus.Unimplemented, error.Status);
        Assert.Contains("no method", error.Message);
        Assert.Equal(7, newer.Add(3, 4));
    }

    [Fact]
    public void A_service_the_server_does_not_host_is_Unimplemented_and_names_what_it_hosts()
    {
        using var server = TestServer.Start(Transport.Inproc);
        INotHosted other = server.Client().CreateProxy<INotHosted>();

        var error = Assert.Throws<RpcException>(other.Ping);

        Assert.Equal(RpcStatus.Unimplemented, error.Status);
        Assert.Contains("TypedZmq.Tests.Contracts.IShapes", error.Message);
        Assert.Equal(3, server.Proxy().Add(1, 2));
    }

    [Fact]
    public void CreateProxy_for_an_interface_without_RpcService_says_how_to_fix_it()
    {
        using var client = new RpcClient($"inproc://typedzmq-none-{Guid.NewGuid():N}");

        var error = Assert.Throws<InvalidOperationException>(client.CreateProxy<INotAService>);

        Assert.Contains("[RpcService]", error.Message);
    }

    [Fact]
    public void AddService_for_an_interface_without_RpcService_says_how_to_fix_it()
    {
        using var server = new RpcServer($"inproc://typedzmq-none-{Guid.NewGuid():N}");

        var error = Assert.Throws<InvalidOperationException>(() => server.AddService<INotAService>(new NotAService()));

        Assert.Contains("[RpcService]", error.Message);
    }

    [Fact]
    public void Hosting_the_same_service_twice_is_rejected()
    {
        using var server = new RpcServer($"inproc://typedzmq-twice-{Guid.NewGuid():N}");
        server.AddService<IShapes>(new Shapes());

        var error = Assert.Throws<InvalidOperationException>(() => server.AddService<IShapes>(new Shapes()));

        Assert.Contains("already hosted", error.Message);
    }

    private sealed class NotAService : INotAService
    {
        public void Ping()
        {
        }
    }
}
