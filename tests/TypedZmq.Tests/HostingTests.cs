using System.Collections.Concurrent;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TypedZmq.Hosting;
using TypedZmq.Tests.Contracts;
using TypedZmq.Tests.Infrastructure;

namespace TypedZmq.Tests;

/// <summary>
/// The hosting package (docs/hosting.md): servers as hosted services with a DI scope per call, typed clients injected
/// from the container, options from configuration validated at start.
/// </summary>
public sealed class HostingTests
{
    [Fact]
    public async Task Each_call_gets_its_own_scope_disposed_after_it_also_when_it_fails_or_hits_its_deadline()
    {
        var tracker = new Tracker();
        using IHost host = BuildHost(tracker, out string _);
        await host.StartAsync(TestContext.Current.CancellationToken);
        IScoped scoped = host.Services.GetRequiredService<IScoped>();

        Task<int>[] calls = Enumerable.Range(0, 99).Select(i => Call(scoped, i % 3)).ToArray();
        int[] results = await Task.WhenAll(calls);

        Assert.Equal(33, results.Count(r => r > 0));
        Assert.Equal(33, results.Count(r => r == -1)); // RemoteError
        Assert.Equal(33, results.Count(r => r == -2)); // DeadlineExceeded
        Assert.Equal(33, results.Where(r => r > 0).Distinct().Count()); // a dependency of its own per call
        await Eventually.WaitUntil(() => tracker.Disposed == 99);
        Assert.Equal(99, tracker.Created);
        Assert.Equal(99, tracker.Implementations.Distinct().Count()); // scoped: an implementation per call
        await host.StopAsync(TestContext.Current.CancellationToken);

        static async Task<int> Call(IScoped scoped, int mode)
        {
            try
            {
                using (RpcCall.WithTimeout(TimeSpan.FromMilliseconds(mode == 2 ? 200 : 10_000)))
                {
                    return await scoped.WorkAsync(mode, CancellationToken.None);
                }
            }
            catch (RpcException ex)
            {
                return ex.Status == RpcStatus.RemoteError ? -1 : ex.Status == RpcStatus.DeadlineExceeded ? -2 : -3;
            }
        }
    }

    [Fact]
    public async Task A_singleton_implementation_stays_one_instance_and_interceptors_come_from_DI()
    {
        var tracker = new Tracker();
        using IHost host = BuildHost(tracker, out string _, services => services.AddSingleton<ScopedImplementation>(), interceptor: true);
        await host.StartAsync(TestContext.Current.CancellationToken);
        IScoped scoped = host.Services.GetRequiredService<IScoped>();

        for (int i = 0; i < 10; i++)
        {
            Assert.True(await scoped.WorkAsync(0, CancellationToken.None) > 0);
        }

        Assert.Single(tracker.Implementations.Distinct());
        Assert.Equal(10, tracker.Intercepted);
        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Host_stop_drains_the_calls_in_flight_and_then_refuses()
    {
        var tracker = new Tracker();
        using IHost host = BuildHost(tracker, out string endpoint);
        await host.StartAsync(TestContext.Current.CancellationToken);
        IScoped scoped = host.Services.GetRequiredService<IScoped>();

        Task<int> inFlight = scoped.WorkAsync(3, CancellationToken.None);
        await Eventually.WaitUntil(() => tracker.Created == 1);
        await host.StopAsync(TestContext.Current.CancellationToken);

        Assert.True(await inFlight > 0, "the call in flight was drained, not dropped");
        using var late = new RpcClient(new RpcClientOptions { Endpoint = endpoint, Timeout = TimeSpan.FromMilliseconds(300) });
        RpcException refused = await Assert.ThrowsAsync<RpcException>(() => late.CreateProxy<IScoped>().WorkAsync(0, CancellationToken.None));
        Assert.Contains(refused.Status, new[] { RpcStatus.Unavailable, RpcStatus.DeadlineExceeded });
    }

    [Fact]
    public async Task Two_named_servers_run_in_one_host()
    {
        HostApplicationBuilder builder = Quiet(Host.CreateApplicationBuilder());
        builder.Services.AddSingleton(new Tracker());
        builder.Services.AddScoped<Dependency>();
        string first = $"inproc://typedzmq-hosting-{Guid.NewGuid():N}";
        string second = $"inproc://typedzmq-hosting-{Guid.NewGuid():N}";
        builder.Services.AddTypedZmqServer("first").Configure(o => o.Endpoint = first).AddService<IScoped, ScopedImplementation>();
        builder.Services.AddTypedZmqServer("second").Configure(o => { o.Endpoint = second; o.Kind = RpcServerKind.Concurrent; }).AddService<IScoped, ScopedImplementation>();
        using IHost host = builder.Build();
        await host.StartAsync(TestContext.Current.CancellationToken);

        foreach (string endpoint in new[] { first, second })
        {
            using var client = new RpcClient(endpoint);
            Assert.True(await client.CreateProxy<IScoped>().WorkAsync(0, CancellationToken.None) > 0);
        }

        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task A_bad_endpoint_in_configuration_stops_the_host_at_start_naming_the_setting()
    {
        HostApplicationBuilder builder = Quiet(Host.CreateApplicationBuilder());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["TypedZmq:Greeter:Endpoint"] = "localhost:5555",
            ["TypedZmq:Greeter:MaxConcurrentCalls"] = "0",
        });
        builder.Services.AddSingleton(new Tracker());
        builder.Services.AddTypedZmqServer("greeter").BindConfiguration("TypedZmq:Greeter").AddService<IScoped, ScopedImplementation>();
        using IHost host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));
        Assert.Contains("'TypedZmq:Greeter:Endpoint' is 'localhost:5555', which is not a ZeroMQ endpoint", error.Message);
        Assert.Contains("'TypedZmq:Greeter:MaxConcurrentCalls' is 0", error.Message);
    }

    [Fact]
    public async Task Configuration_sets_a_server_and_a_client_is_validated_too()
    {
        string endpoint = $"inproc://typedzmq-hosting-{Guid.NewGuid():N}";
        HostApplicationBuilder builder = Quiet(Host.CreateApplicationBuilder());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Rpc:Endpoint"] = endpoint,
            ["Rpc:Kind"] = "Concurrent",
            ["Rpc:StopTimeout"] = "00:00:02",
        });
        builder.Services.AddSingleton(new Tracker());
        builder.Services.AddScoped<Dependency>();
        builder.Services.AddTypedZmqServer().BindConfiguration("Rpc").AddService<IScoped, ScopedImplementation>();
        builder.Services.AddTypedZmqClient<IScoped>("good").Configure(o => o.Endpoint = endpoint);
        using IHost host = builder.Build();
        await host.StartAsync(TestContext.Current.CancellationToken);
        TypedZmqServerOptions bound = host.Services.GetRequiredService<IOptionsMonitor<TypedZmqServerOptions>>().Get(TypedZmqServiceCollectionExtensions.DefaultName);
        Assert.Equal(RpcServerKind.Concurrent, bound.Kind);
        Assert.Equal(TimeSpan.FromSeconds(2), bound.StopTimeout);
        Assert.True(await host.Services.GetRequiredService<IScoped>().WorkAsync(0, CancellationToken.None) > 0);
        await host.StopAsync(TestContext.Current.CancellationToken);

        HostApplicationBuilder bad = Quiet(Host.CreateApplicationBuilder());
        bad.Services.AddTypedZmqClient<IScoped>(o => o.Timeout = TimeSpan.Zero);
        using IHost badHost = bad.Build();
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => badHost.StartAsync(TestContext.Current.CancellationToken));
        Assert.Contains("TypedZmqClientOptions.Endpoint is not set", error.Message);
        Assert.Contains("TypedZmqClientOptions.Timeout", error.Message);
    }

    [Fact]
    public async Task A_client_bound_from_configuration_is_named_by_its_key_when_invalid()
    {
        HostApplicationBuilder builder = Quiet(Host.CreateApplicationBuilder());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Clients:Orders:Endpoint"] = "orders:5555" });
        builder.Services.AddTypedZmqClient<IScoped>("orders").BindConfiguration("Clients:Orders");
        using IHost host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));
        Assert.Contains("TypedZmq client 'orders': 'Clients:Orders:Endpoint' is 'orders:5555'", error.Message);
    }

    [Fact]
    public async Task A_host_shutdown_timeout_shorter_than_the_drain_cancels_the_calls_and_closes_the_server()
    {
        var tracker = new Tracker();
        string endpoint = $"inproc://typedzmq-hosting-{Guid.NewGuid():N}";
        HostApplicationBuilder builder = Quiet(Host.CreateApplicationBuilder());
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromMilliseconds(200));
        builder.Services.AddSingleton(tracker);
        builder.Services.AddScoped<Dependency>();
        builder.Services.AddTypedZmqServer(o =>
        {
            o.Endpoint = endpoint;
            o.Kind = RpcServerKind.Concurrent;
            o.StopTimeout = TimeSpan.FromMinutes(1); // the host's 200 ms must win
        }).AddService<IScoped, ScopedImplementation>();

        // Registering the same name again adds to that server rather than starting a second one on the same endpoint.
        builder.Services.AddTypedZmqServer(TypedZmqServiceCollectionExtensions.DefaultName).AddInterceptor<CountingInterceptor>();
        using IHost host = builder.Build();
        await host.StartAsync(TestContext.Current.CancellationToken);
        using var client = new RpcClient(new RpcClientOptions { Endpoint = endpoint, Channel = RpcChannelKind.Multiplexed, Timeout = TimeSpan.FromMinutes(1) });
        Task<int> waiting = client.CreateProxy<IScoped>().WorkAsync(2, CancellationToken.None);
        await Eventually.WaitUntil(() => tracker.Created == 1);
        Assert.Equal(1, tracker.Intercepted);

        Task stop = host.StopAsync(CancellationToken.None);
        Assert.Same(stop, await Task.WhenAny(stop, Task.Delay(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken)));
        RpcException cancelled = await Assert.ThrowsAsync<RpcException>(() => waiting);
        Assert.Equal(RpcStatus.Cancelled, cancelled.Status);
        await Eventually.WaitUntil(() => tracker.Disposed == 1);
    }

    private static HostApplicationBuilder Quiet(HostApplicationBuilder builder)
    {
        builder.Logging.ClearProviders();
        return builder;
    }

    private static IHost BuildHost(Tracker tracker, out string endpoint, Action<IServiceCollection>? more = null, bool interceptor = false)
    {
        endpoint = $"inproc://typedzmq-hosting-{Guid.NewGuid():N}";
        string bound = endpoint;
        HostApplicationBuilder builder = Quiet(Host.CreateApplicationBuilder());
        builder.Services.AddSingleton(tracker);
        builder.Services.AddScoped<Dependency>();
        more?.Invoke(builder.Services);
        TypedZmqServerBuilder server = builder.Services
            .AddTypedZmqServer(o =>
            {
                o.Endpoint = bound;
                o.Kind = RpcServerKind.Concurrent;
            })
            .AddService<IScoped, ScopedImplementation>();
        if (interceptor)
        {
            server.AddInterceptor<CountingInterceptor>();
        }

        builder.Services.AddTypedZmqClient<IScoped>(o =>
        {
            o.Endpoint = bound;
            o.Channel = RpcChannelKind.Multiplexed;
            o.MaxAttempts = 1;
        });
        return builder.Build();
    }

    /// <summary>Counts what the container made and disposed, across scopes.</summary>
    public sealed class Tracker
    {
        private int _created;
        private int _disposed;
        private int _intercepted;

        public int Created => Volatile.Read(ref _created);

        public int Disposed => Volatile.Read(ref _disposed);

        public int Intercepted => Volatile.Read(ref _intercepted);

        public ConcurrentBag<object> Implementations { get; } = [];

        public int NoteCreated() => Interlocked.Increment(ref _created);

        public void NoteDisposed() => Interlocked.Increment(ref _disposed);

        public void NoteIntercepted() => Interlocked.Increment(ref _intercepted);
    }

    /// <summary>A scoped dependency, like a DbContext: made per call, disposed with the call's scope.</summary>
    public sealed class Dependency(Tracker tracker) : IAsyncDisposable
    {
        public int Id { get; } = tracker.NoteCreated();

        public ValueTask DisposeAsync()
        {
            tracker.NoteDisposed();
            return ValueTask.CompletedTask;
        }
    }

    public sealed class ScopedImplementation(IServiceProvider services, Tracker tracker) : IScoped
    {
        public async Task<int> WorkAsync(int mode, CancellationToken cancellationToken)
        {
            tracker.Implementations.Add(this);
            int id = services.GetRequiredService<Dependency>().Id;
            switch (mode)
            {
                case 1:
                    throw new InvalidOperationException("fails on purpose");
                case 2:
                    await Task.Delay(Timeout.Infinite, cancellationToken);
                    break;
                case 3:
                    await Task.Delay(500, CancellationToken.None);
                    break;
            }

            return id;
        }
    }

    public sealed class CountingInterceptor(Tracker tracker) : RpcServerInterceptor
    {
        public override ValueTask InterceptAsync(RpcCallContext context, RpcServerContinuation next)
        {
            tracker.NoteIntercepted();
            return next(context);
        }
    }
}
