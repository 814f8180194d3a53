using TypedZmq.FaultServer;
using TypedZmq.Tests.Infrastructure;

namespace TypedZmq.Tests;

/// <summary>
/// Workers behind a broker (samples/Broker, NetMQ's Proxy; docs/scaling.md "Workers behind a broker"): clients call
/// one stable address, workers connect to the broker and share the calls, and a worker that dies is routed around.
/// </summary>
public sealed class BrokerTests
{
    [Theory]
    [InlineData(RpcServerKind.Reply, RpcChannelKind.Request)]
    [InlineData(RpcServerKind.Reply, RpcChannelKind.Multiplexed)]
    [InlineData(RpcServerKind.Concurrent, RpcChannelKind.Request)]
    [InlineData(RpcServerKind.Concurrent, RpcChannelKind.Multiplexed)]
    public async Task Calls_through_the_broker_are_shared_by_the_workers_and_answered_to_their_callers(RpcServerKind kind, RpcChannelKind channel)
    {
        using var broker = new Broker.Broker("tcp://127.0.0.1:0", $"inproc://typedzmq-broker-{Guid.NewGuid():N}");
        broker.Start();
        using RpcServer first = Worker(broker, kind, "first");
        using RpcServer second = Worker(broker, kind, "second");
        using var client = new RpcClient(new RpcClientOptions { Endpoint = broker.FrontendEndpoint, Channel = channel });
        using var other = new RpcClient(new RpcClientOptions { Endpoint = broker.FrontendEndpoint, Channel = channel });
        ICounter counter = client.CreateProxy<ICounter>();

        // Each caller gets its own answers (the broker routes replies by the caller's identity) ...
        int[] values = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => Task.Run(() => (i % 2 == 0 ? counter : other.CreateProxy<ICounter>()).Echo("call " + i).Length)));
        Assert.Equal(Enumerable.Range(0, 20).Select(i => ("call " + i).Length), values);

        // ... and the workers share the calls (the broker's DEALER deals them out in turn).
        var names = new HashSet<string>();
        for (int i = 0; i < 20 && names.Count < 2; i++)
        {
            names.Add(counter.Name());
        }

        Assert.Equal(["first", "second"], names.Order());
    }

    [Fact]
    public async Task A_worker_process_that_dies_is_routed_around_and_idempotent_calls_on_it_retry_on_another()
    {
        using var broker = new Broker.Broker("tcp://127.0.0.1:0", "tcp://127.0.0.1:0");
        broker.Start();
        using ChildProcess doomed = await StartWorkerAsync(broker);
        using ChildProcess survivor = await StartWorkerAsync(broker);
        using var client = new RpcClient(new RpcClientOptions
        {
            Endpoint = broker.FrontendEndpoint,
            Channel = RpcChannelKind.Multiplexed,
            Timeout = TimeSpan.FromSeconds(2),
            MaxAttempts = 5,
            RetryBackoff = TimeSpan.FromMilliseconds(50),
        });
        ICounter counter = client.CreateProxy<ICounter>();
        await Eventually.WaitUntilAsync(async () => (await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(counter.Name)))).Distinct().Count() == 2);

        // Calls in flight on both workers; one worker dies. Its calls end at their deadline (the broker does not tell
        // the client) and are sent again; the broker now deals only to the survivor.
        Task<int>[] calls = Enumerable.Range(0, 6).Select(_ => counter.GetAsync(500)).ToArray();
        doomed.Kill();

        int[] results = await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        Assert.All(results, value => Assert.Equal(0, value));
        string name = counter.Name();
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal(name, counter.Name()); // only one worker left
        }
    }

    private static RpcServer Worker(Broker.Broker broker, RpcServerKind kind, string name)
    {
        var server = new RpcServer(new RpcServerOptions { Endpoint = broker.BackendEndpoint, ConnectToEndpoint = true, Kind = kind });
        server.AddService<ICounter>(new Counter(name));
        server.Start();
        return server;
    }

    private static async Task<ChildProcess> StartWorkerAsync(Broker.Broker broker) =>
        (await FaultServerProcess.StartAsync(broker.BackendEndpoint, "concurrent", "connect")).Process;
}
