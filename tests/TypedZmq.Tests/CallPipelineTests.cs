using System.Collections.Concurrent;
using TypedZmq.FaultServer;
using TypedZmq.Tests.Contracts;
using TypedZmq.Tests.Infrastructure;

namespace TypedZmq.Tests;

/// <summary>
/// The call pipeline (docs/call-pipeline.md): the call context a server implementation and its interceptors see, the
/// interceptors on both sides, and metadata from client to server. Every behaviour runs on both server kinds and both
/// client channels.
/// </summary>
public sealed class CallPipelineTests
{
    public static TheoryData<RpcServerKind, RpcChannelKind> Kinds => new()
    {
        { RpcServerKind.Reply, RpcChannelKind.Request },
        { RpcServerKind.Reply, RpcChannelKind.Multiplexed },
        { RpcServerKind.Concurrent, RpcChannelKind.Request },
        { RpcServerKind.Concurrent, RpcChannelKind.Multiplexed },
    };

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Interceptors_run_in_order_around_every_method_shape_on_both_sides(RpcServerKind serverKind, RpcChannelKind channel)
    {
        var log = new ConcurrentQueue<string>();
        using var server = StartServer(serverKind, new Logging("server-outer", log), new Logging("server-inner", log));
        using RpcClient client = Client(server, channel, new ClientLogging("client-outer", log), new ClientLogging("client-inner", log));
        IShapes shapes = client.CreateProxy<IShapes>();

        // void, T, Task<T>, Task, ValueTask, ValueTask<T>; synchronous and asynchronous proxies alike.
        var calls = new (string Method, Func<Task<object?>> Call, object? Result)[]
        {
            ("Ping", () => Run(shapes.Ping), null),
            ("Add", () => Task.FromResult<object?>(shapes.Add(2, 3)), 5),
            ("AddAsync", async () => await shapes.AddAsync(4, 5), 9),
            ("RememberAsync", async () => { await shapes.RememberAsync("x"); return null; }, null),
            ("ForgetAsync", async () => { await shapes.ForgetAsync(); return null; }, null),
            ("RenameAsync", async () => (await shapes.RenameAsync(new Person("a", 1, [], null), "b")).Name, "b"),
        };

        foreach ((string method, Func<Task<object?>> call, object? result) in calls)
        {
            log.Clear();
            Assert.Equal(result, await call());
            string resultText = method == "RenameAsync" ? "Person" : result?.ToString() ?? "null";
            Assert.Equal(
                [
                    $"client-outer before {method}", $"client-inner before {method}",
                    $"server-outer before {method}", $"server-inner before {method}",
                    $"server-inner after {resultText}", $"server-outer after {resultText}",
                    $"client-inner after {resultText}", $"client-outer after {resultText}",
                ],
                log.ToArray());
        }

        static Task<object?> Run(Action action)
        {
            action();
            return Task.FromResult<object?>(null);
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task A_server_interceptor_refuses_a_call_with_a_status_and_the_implementation_never_runs(RpcServerKind serverKind, RpcChannelKind channel)
    {
        using var server = StartServer(serverKind, new RequireMetadata("x-token", "let-me-in"));
        using RpcClient client = Client(server, channel);
        IShapes shapes = client.CreateProxy<IShapes>();

        var refused = await Assert.ThrowsAsync<RpcException>(() => shapes.AddAsync(1, 2));
        Assert.Equal(RpcStatus.PermissionDenied, refused.Status);
        Assert.Contains("x-token", refused.Message);
        Assert.Equal(0, server.Implementation.Adds);

        using (RpcCall.WithMetadata("x-token", "let-me-in"))
        {
            Assert.Equal(3, await shapes.AddAsync(1, 2));
        }

        Assert.Equal(1, server.Implementation.Adds);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Interceptors_see_failures_as_RpcExceptions_with_the_implementations_exception_inside(RpcServerKind serverKind, RpcChannelKind channel)
    {
        var serverSaw = new ConcurrentQueue<Exception>();
        var clientSaw = new ConcurrentQueue<Exception>();
        using var server = StartServer(serverKind, new CatchAll(serverSaw));
        using RpcClient client = Client(server, channel, new ClientCatchAll(clientSaw));

        var error = await Assert.ThrowsAsync<RpcException>(() => client.CreateProxy<IShapes>().FailAsync("boom"));

        Assert.Equal(RpcStatus.RemoteError, error.Status);
        RpcException onServer = Assert.IsType<RpcException>(Assert.Single(serverSaw));
        Assert.Equal(RpcStatus.RemoteError, onServer.Status);
        Assert.IsType<ArgumentException>(onServer.InnerException);
        Assert.Equal(typeof(ArgumentException).FullName, onServer.RemoteExceptionType);
        Assert.Same(error, Assert.Single(clientSaw));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task An_interceptor_that_neither_continues_nor_throws_fails_the_call_with_Internal(RpcServerKind serverKind, RpcChannelKind channel)
    {
        using var server = StartServer(serverKind, new Swallow());
        using RpcClient client = Client(server, channel);

        var error = await Assert.ThrowsAsync<RpcException>(() => client.CreateProxy<IShapes>().AddAsync(1, 1));

        Assert.Equal(RpcStatus.Internal, error.Status);
        Assert.Contains("without calling next", error.Message);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task The_implementation_sees_its_call_through_RpcCallContext_Current(RpcServerKind serverKind, RpcChannelKind channel)
    {
        ulong clientRequestId = 0;
        using var server = StartServer(serverKind);
        using RpcClient client = Client(server, channel, new ClientInspect(context => clientRequestId = context.RequestId));
        long before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

        CallSeen seen;
        using (RpcCall.WithTimeout(TimeSpan.FromSeconds(30)))
        using (RpcCall.WithMetadata("x-user", "ada"))
        {
            seen = await client.CreateProxy<IShapes>().DescribeCallAsync("x-user");
        }

        Assert.Equal("TypedZmq.Tests.Contracts.IShapes", seen.Service);
        Assert.Equal("DescribeCallAsync", seen.Method);
        Assert.Equal(WireFormat.Fnv1a("DescribeCallAsync(System.String)"), seen.MethodId);
        Assert.Equal(clientRequestId, seen.RequestId);
        Assert.Equal(1, seen.Attempt);
        Assert.InRange(seen.DeadlineUnixMs!.Value, before + 29_000, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 31_000);
        Assert.Equal("ada", seen.Metadata);
        Assert.True(seen.SameContextAfterAwait, "the context is lost across an await");
        Assert.True(seen.TokenCanBeCancelled);
        Assert.True(serverKind == RpcServerKind.Reply ? seen.Peer == "unknown" : seen.Peer.Length == 10, $"peer {seen.Peer}"); // a ROUTER names the connection's 5-byte id
        Assert.Null(RpcCallContext.Current);
    }

    [Theory]
    [InlineData("reply", RpcChannelKind.Request)]
    [InlineData("concurrent", RpcChannelKind.Multiplexed)]
    public async Task A_retried_call_arrives_as_attempt_two_and_the_client_context_counts_its_attempts(string serverKind, RpcChannelKind channel)
    {
        // A server process whose first Get is slower than the client's timeout: the idempotent call is retried.
        string endpoint = "tcp://127.0.0.1:" + Eventually.FreeTcpPort();
        using ChildProcess process = (await FaultServerProcess.StartAsync(endpoint, serverKind, "slow-first")).Process;
        int attempts = 0;
        using var client = new RpcClient(new RpcClientOptions
        {
            Endpoint = endpoint,
            Channel = channel,
            Timeout = TimeSpan.FromSeconds(2),
            RetryBackoff = TimeSpan.FromMilliseconds(10),
            Interceptors = { new ClientInspect(context => attempts = context.Attempts) },
        });
        ICounter counter = client.CreateProxy<ICounter>();
        using (RpcCall.WithTimeout(TimeSpan.FromSeconds(30)))
        {
            await counter.NameAsync(0); // connected and warm before the timed call, however loaded the machine
        }

        // Attempt 1 takes 2.3 s and times out at 2 s; attempt 2 (fast) waits at most for attempt 1 to end on a reply
        // server, about 0.3 s, well inside its own 2 s.
        Assert.Equal(2, await counter.LastAttemptAsync(delayMilliseconds: 2300));
        Assert.Equal(2, attempts);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task A_client_interceptor_adds_metadata_changes_the_timeout_or_refuses_before_anything_is_sent(RpcServerKind serverKind, RpcChannelKind channel)
    {
        using var server = StartServer(serverKind);
        using RpcClient client = Client(server, channel, new ClientStamp());
        IShapes shapes = client.CreateProxy<IShapes>();

        Assert.Equal("stamped", (await shapes.DescribeCallAsync("x-stamp")).Metadata);

        using (RpcCall.WithMetadata("x-refuse", "yes"))
        {
            var refused = await Assert.ThrowsAsync<RpcException>(() => shapes.AddAsync(1, 1));
            Assert.Equal(RpcStatus.Unauthenticated, refused.Status);
            Assert.Throws<RpcException>(() => shapes.Add(1, 1));
        }

        Assert.Equal(0, server.Implementation.Adds);

        using (RpcCall.WithMetadata("x-timeout-ms", "100"))
        {
            var slow = await Assert.ThrowsAsync<RpcException>(() => shapes.SlowAsync(2000, CancellationToken.None));
            Assert.Equal(RpcStatus.DeadlineExceeded, slow.Status);
        }
    }

    [Fact]
    public async Task Metadata_scopes_nest_carry_binary_values_and_are_gone_after_the_scope()
    {
        var seen = new ConcurrentQueue<RpcMetadata>();
        using var observed = TestServer.Start(Transport.Tcp, new RpcServerOptions { Endpoint = "x", Interceptors = { new Capture(seen) } });
        IShapes shapes = observed.Proxy();

        using (RpcCall.WithMetadata("x-a", "1"))
        {
            using (RpcCall.WithMetadata("x-b", [0, 1, 2, 255]))
            {
                shapes.Ping();
            }

            shapes.Ping();
        }

        shapes.Ping();

        RpcMetadata[] calls = seen.ToArray();
        Assert.Equal(["x-a", "x-b"], calls[0].Select(e => e.Key));
        Assert.Equal(new byte[] { 0, 1, 2, 255 }, calls[0][1].Value.ToArray());
        Assert.Equal(["x-a"], calls[1].Select(e => e.Key));
        Assert.Empty(calls[2]);
        Assert.Throws<ArgumentException>(() => RpcCall.WithMetadata("has space", "v"));

        // More than a request may carry is refused by the client, before anything is sent.
        using (RpcCall.WithMetadata("x-big", new byte[RpcMetadata.MaxEncodedSize]))
        {
            var tooBig = Assert.Throws<RpcException>(shapes.Ping);
            Assert.Equal(RpcStatus.BadRequest, tooBig.Status);
            Assert.Contains("metadata takes", tooBig.Message);
        }

        Assert.Equal(3, observed.Implementation.Pings);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task The_call_token_fires_at_the_deadline_and_the_caller_gets_DeadlineExceeded(RpcServerKind serverKind, RpcChannelKind channel)
    {
        using var server = StartServer(serverKind);
        using RpcClient client = Client(server, channel);

        using (RpcCall.WithTimeout(TimeSpan.FromMilliseconds(300)))
        {
            var error = await Assert.ThrowsAsync<RpcException>(() => client.CreateProxy<IShapes>().SlowAsync(30_000, CancellationToken.None));
            Assert.Equal(RpcStatus.DeadlineExceeded, error.Status);
        }

        // The implementation's token fired at the deadline: it did not wait its 30 s.
        await Eventually.WaitUntil(() => server.Implementation.SlowRunning == 0, TimeSpan.FromSeconds(5));
    }

    private static TestServer StartServer(RpcServerKind kind, params RpcServerInterceptor[] interceptors)
    {
        var options = new RpcServerOptions { Endpoint = "set by TestServer", Kind = kind, StopTimeout = TimeSpan.FromMilliseconds(200) };
        foreach (RpcServerInterceptor interceptor in interceptors)
        {
            options.Interceptors.Add(interceptor);
        }

        return TestServer.Start(Transport.Tcp, options);
    }

    private static RpcClient Client(TestServer server, RpcChannelKind channel, params RpcClientInterceptor[] interceptors)
    {
        var options = new RpcClientOptions { Endpoint = server.Endpoint, Channel = channel, Timeout = TimeSpan.FromSeconds(10) };
        foreach (RpcClientInterceptor interceptor in interceptors)
        {
            options.Interceptors.Add(interceptor);
        }

        return new RpcClient(options);
    }

    private static string Describe(object? result) => result switch
    {
        null => "null",
        Person => "Person",
        _ => result.ToString() ?? "null",
    };

    private sealed class Logging(string name, ConcurrentQueue<string> log) : RpcServerInterceptor
    {
        public override async ValueTask InterceptAsync(RpcCallContext context, RpcServerContinuation next)
        {
            log.Enqueue($"{name} before {context.MethodName}");
            await next(context);
            log.Enqueue($"{name} after {Describe(context.Result)}");
        }
    }

    private sealed class ClientLogging(string name, ConcurrentQueue<string> log) : RpcClientInterceptor
    {
        public override async ValueTask InterceptAsync(RpcClientContext context, RpcClientContinuation next)
        {
            log.Enqueue($"{name} before {context.MethodName}");
            await next(context);
            log.Enqueue($"{name} after {Describe(context.Result)}");
        }
    }

    private sealed class RequireMetadata(string key, string value) : RpcServerInterceptor
    {
        public override ValueTask InterceptAsync(RpcCallContext context, RpcServerContinuation next) =>
            context.RequestMetadata.GetString(key) == value
                ? next(context)
                : throw new RpcException(RpcStatus.PermissionDenied, $"send the {key} metadata to call {context.MethodName}.");
    }

    private sealed class CatchAll(ConcurrentQueue<Exception> seen) : RpcServerInterceptor
    {
        public override async ValueTask InterceptAsync(RpcCallContext context, RpcServerContinuation next)
        {
            try
            {
                await next(context);
            }
            catch (Exception ex)
            {
                seen.Enqueue(ex);
                throw;
            }
        }
    }

    private sealed class ClientCatchAll(ConcurrentQueue<Exception> seen) : RpcClientInterceptor
    {
        public override async ValueTask InterceptAsync(RpcClientContext context, RpcClientContinuation next)
        {
            try
            {
                await next(context);
            }
            catch (Exception ex)
            {
                seen.Enqueue(ex);
                throw;
            }
        }
    }

    private sealed class Swallow : RpcServerInterceptor
    {
        public override ValueTask InterceptAsync(RpcCallContext context, RpcServerContinuation next) => default;
    }

    private sealed class Capture(ConcurrentQueue<RpcMetadata> seen) : RpcServerInterceptor
    {
        public override ValueTask InterceptAsync(RpcCallContext context, RpcServerContinuation next)
        {
            seen.Enqueue(context.RequestMetadata);
            return next(context);
        }
    }

    private sealed class ClientInspect(Action<RpcClientContext> inspect) : RpcClientInterceptor
    {
        public override async ValueTask InterceptAsync(RpcClientContext context, RpcClientContinuation next)
        {
            try
            {
                await next(context);
            }
            finally
            {
                inspect(context);
            }
        }
    }

    /// <summary>Stamps every call; refuses calls that carry x-refuse; takes its timeout from x-timeout-ms.</summary>
    private sealed class ClientStamp : RpcClientInterceptor
    {
        public override ValueTask InterceptAsync(RpcClientContext context, RpcClientContinuation next)
        {
            if (context.RequestMetadata.GetString("x-refuse") is not null)
            {
                throw new RpcException(RpcStatus.Unauthenticated, "refused by the client interceptor");
            }

            if (context.RequestMetadata.GetString("x-timeout-ms") is { } timeout)
            {
                context.Timeout = TimeSpan.FromMilliseconds(int.Parse(timeout, System.Globalization.CultureInfo.InvariantCulture));
            }

            context.RequestMetadata.Set("x-stamp", "stamped");
            return next(context);
        }
    }
}
