using System.Collections.Concurrent;
using System.Diagnostics;
using TypedZmq.FaultServer;
using TypedZmq.Tests.Infrastructure;

namespace TypedZmq.Tests;

/// <summary>
/// Both scale-out shapes of docs/scaling.md with real server processes on 127.0.0.1: a set of servers that changes
/// under a running client (one added, one removed, one killed), and workers behind the broker coming and going while
/// the broker itself restarts.
/// </summary>
public sealed class ScaleOutProcessTests
{
    [Fact]
    public async Task A_server_set_grows_shrinks_and_loses_a_process_without_losing_a_call_that_was_not_on_it()
    {
        (ChildProcess Process, string Endpoint)[] started = await Task.WhenAll(
            StartAsync("tcp://127.0.0.1:0", "name=one"), StartAsync("tcp://127.0.0.1:0", "name=two"), StartAsync("tcp://127.0.0.1:0", "name=three"));
        using ChildProcess one = started[0].Process, two = started[1].Process, three = started[2].Process;
        string[] endpoints = started.Select(s => s.Endpoint).ToArray();
        var resolver = new SettableResolver(endpoints[0], endpoints[1]);
        using var client = new RpcClient(new RpcClientOptions
        {
            Endpoint = endpoints[0] + "," + endpoints[1],
            Channel = RpcChannelKind.Multiplexed,
            EndpointResolver = resolver,
            ResolveInterval = TimeSpan.FromMilliseconds(100),
            RetryBackoff = TimeSpan.FromMilliseconds(20),
        });
        ICounter counter = client.CreateProxy<ICounter>();

        // Load all along: idempotent calls that say who answered, and calls that are not idempotent (never retried).
        using var load = new Load(counter);
        await Eventually.WaitUntil(() => load.Seen("one") && load.Seen("two"));

        // A third server joins: it gets calls within a few resolve intervals.
        var joined = Stopwatch.StartNew();
        resolver.Set(endpoints[0], endpoints[1], endpoints[2]);
        await Eventually.WaitUntil(() => load.Seen("three"));
        Assert.True(joined.Elapsed < TimeSpan.FromSeconds(15), $"the new server got its first call after {joined.Elapsed}");

        // The first leaves the set: it finishes what it was given, then gets nothing more; no call fails.
        resolver.Set(endpoints[1], endpoints[2]);
        await Eventually.WaitUntil(() => load.LastAnswers(40) is { Count: 40 } last && !last.Contains("one"));
        await Eventually.WaitUntil(() => load.Calls > 100); // a real load went through all of it
        await load.StopAsync();
        Assert.Empty(load.Failures);

        // Slow calls of both kinds in flight on both remaining servers; then one is killed (SIGKILL).
        Task<int>[] reads = new Task<int>[6];
        Task<int>[] writes = new Task<int>[6];
        for (int i = 0; i < 6; i += 2)
        {
            reads[i] = counter.GetAsync(1000);
            reads[i + 1] = counter.GetAsync(1000);
            writes[i] = counter.IncrementAsync(1000);
            writes[i + 1] = counter.IncrementAsync(1000);
        }

        await two.WaitForLineAsync("CALL GetAsync 1000", TimeSpan.FromSeconds(30));
        await two.WaitForLineAsync("CALL IncrementAsync 1000", TimeSpan.FromSeconds(30));
        var killed = Stopwatch.StartNew();
        two.Kill();

        // Reads that were on it run again on the survivor; writes that were on it fail with Unavailable (the connection
        // was lost, the call may have run) well before their 10 s deadline; the rest complete. None hangs.
        await Task.WhenAll(reads).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken); // throws if one failed
        Exception?[] outcomes = await Task.WhenAll(writes.Select(async write =>
        {
            try
            {
                await write;
                return null;
            }
            catch (RpcException ex)
            {
                return (Exception?)ex;
            }
        })).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        RpcException[] lost = outcomes.OfType<RpcException>().ToArray();
        Assert.NotEmpty(lost);
        Assert.All(lost, error => Assert.Equal(RpcStatus.Unavailable, error.Status));
        Assert.All(lost, error => Assert.Contains("was lost", error.Message));
        Assert.Contains(outcomes, outcome => outcome is null); // the writes on the survivor completed
        Assert.True(killed.Elapsed < TimeSpan.FromSeconds(8), $"the calls ended {killed.Elapsed} after the kill");
        Assert.Equal("three", await counter.NameAsync(0));
    }

    [Fact]
    public async Task Workers_behind_the_broker_come_and_go_and_the_broker_restarts_under_load()
    {
        string frontend = "tcp://127.0.0.1:" + Eventually.FreeTcpPort();
        string backend = "tcp://127.0.0.1:" + Eventually.FreeTcpPort();
        var broker = new Broker.Broker(frontend, backend);
        try
        {
            broker.Start();
            using ChildProcess first = (await StartAsync(backend, "connect", "name=first")).Process;
            using var client = new RpcClient(new RpcClientOptions
            {
                Endpoint = frontend,
                Channel = RpcChannelKind.Multiplexed,
                Timeout = TimeSpan.FromSeconds(1),
                MaxAttempts = 10,
                RetryBackoff = TimeSpan.FromMilliseconds(50),
            });
            ICounter counter = client.CreateProxy<ICounter>();
            using var load = new Load(counter, writes: false);
            await Eventually.WaitUntil(() => load.Seen("first"));

            // A worker joins behind the same address and takes a share of the calls.
            using ChildProcess second = (await StartAsync(backend, "connect", "name=second")).Process;
            await Eventually.WaitUntil(() => load.Seen("second"));

            // The first dies: its calls are sent again at their deadline and the broker deals them to the second.
            first.Kill();
            await Eventually.WaitUntil(() => load.LastAnswers(20) is { Count: 20 } last && last.All(name => name == "second"));

            // The broker restarts on the same addresses: the client and the worker reconnect by themselves, and the
            // calls caught in the restart are retried (they are idempotent) until it is back.
            // (NetMQ closes a listener on its I/O thread after Dispose returns: the new broker binds once the port is free.)
            broker.Dispose();
            await Eventually.WaitUntil(() =>
            {
                try
                {
                    broker = new Broker.Broker(frontend, backend);
                    return true;
                }
                catch (NetMQ.AddressAlreadyInUseException)
                {
                    return false;
                }
            });
            broker.Start();
            int before = load.Answered;
            await Eventually.WaitUntil(() => load.Answered >= before + 20, TimeSpan.FromSeconds(30));

            await load.StopAsync();
            Assert.Empty(load.Failures);
        }
        finally
        {
            broker.Dispose();
        }
    }

    private static Task<(ChildProcess Process, string Endpoint)> StartAsync(string endpoint, params string[] arguments) =>
        FaultServerProcess.StartAsync([endpoint, "concurrent", "trace", .. arguments]);

    /// <summary>Four loops of calls until stopped: who answered each idempotent call, and every failure.</summary>
    private sealed class Load : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task[] _loops;
        private readonly ConcurrentDictionary<string, int> _seen = new();
        private readonly ConcurrentQueue<Exception> _failures = new();
        private readonly object _sync = new();
        private readonly List<string> _answers = [];
        private int _calls;

        public Load(ICounter counter, bool writes = true)
        {
            _loops = Enumerable.Range(0, 4).Select(i => Task.Run(async () =>
            {
                while (!_stop.IsCancellationRequested)
                {
                    try
                    {
                        if (writes && i % 2 == 1)
                        {
                            await counter.IncrementAsync(5);
                        }
                        else
                        {
                            string name = await counter.NameAsync(5);
                            _seen.AddOrUpdate(name, 1, (_, count) => count + 1);
                            lock (_sync)
                            {
                                _answers.Add(name);
                            }
                        }

                        Interlocked.Increment(ref _calls);
                    }
                    catch (Exception ex)
                    {
                        _failures.Enqueue(ex);
                    }
                }
            })).ToArray();
        }

        public IReadOnlyCollection<Exception> Failures => _failures;

        public int Calls => Volatile.Read(ref _calls);

        public bool Seen(string name) => _seen.ContainsKey(name);

        /// <summary>How many idempotent calls have been answered.</summary>
        public int Answered
        {
            get
            {
                lock (_sync)
                {
                    return _answers.Count;
                }
            }
        }

        /// <summary>Who answered the last <paramref name="count"/> idempotent calls (fewer while fewer ran).</summary>
        public List<string> LastAnswers(int count)
        {
            lock (_sync)
            {
                return _answers.GetRange(Math.Max(0, _answers.Count - count), Math.Min(count, _answers.Count));
            }
        }

        public async Task StopAsync()
        {
            _stop.Cancel();
            await Task.WhenAll(_loops).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        }

        public void Dispose()
        {
            _stop.Cancel();
            _stop.Dispose();
        }
    }
}
