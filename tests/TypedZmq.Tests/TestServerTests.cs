using System.Reflection;
using TypedZmq.Tests.Infrastructure;

namespace TypedZmq.Tests;

/// <summary>The test helpers themselves: a helper that silently drops a setting makes every test that uses it lie.</summary>
public sealed class TestServerTests
{
    [Fact]
    public void The_test_server_keeps_every_server_setting_but_the_endpoint()
    {
        var interceptor = new Recorder();
        var template = new RpcServerOptions
        {
            Endpoint = "placeholder",
            Kind = RpcServerKind.Concurrent,
            IncludeExceptionDetails = true,
            MaxMessageSize = 1234,
            MaxConcurrentCalls = 7,
            MaxQueuedRequests = 8,
            StopTimeout = TimeSpan.FromSeconds(9),
            ReplyCacheSize = 10,
            MaxCallsPerPeer = 11,
            MaxOpenStreams = 13,
            MaxOpenStreamsPerPeer = 14,
            StreamIdleTimeout = TimeSpan.FromSeconds(15),
            Security = new RpcServerSecurity(RpcKeyPair.Generate()),
            LoggerFactory = Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance,
            HeartbeatInterval = TimeSpan.FromSeconds(3),
            HeartbeatTimeout = TimeSpan.FromSeconds(12),
            ConnectToEndpoint = true,
            Interceptors = { interceptor },
        };

        RpcServerOptions copy = TestServer.WithEndpoint(template, "inproc://copy");

        Assert.Equal("inproc://copy", copy.Endpoint);
        foreach (PropertyInfo property in typeof(RpcServerOptions).GetProperties())
        {
            if (property.Name is nameof(RpcServerOptions.Endpoint) or nameof(RpcServerOptions.Interceptors))
            {
                continue;
            }

            Assert.True(Equals(property.GetValue(template), property.GetValue(copy)), $"RpcServerOptions.{property.Name} is not copied");
            Assert.NotEqual(property.GetValue(new RpcServerOptions { Endpoint = "x" }), property.GetValue(copy));
        }

        Assert.Equal([interceptor], copy.Interceptors);
    }

    private sealed class Recorder : RpcServerInterceptor
    {
        public override ValueTask InterceptAsync(RpcCallContext context, RpcServerContinuation next) => next(context);
    }
}
