using TypedZmq.Tests.Contracts;
using TypedZmq.Tests.Infrastructure;

namespace TypedZmq.Tests;

/// <summary>One client shared by many threads: calls are serialized on its socket and each caller gets its own answer.</summary>
public sealed class ConcurrencyTests
{
    [Theory]
    [InlineData(Transport.Tcp)]
    [InlineData(Transport.Inproc)]
    public async Task Concurrent_callers_on_one_client_each_get_their_own_result(Transport transport)
    {
        using var server = TestServer.Start(transport);
        IShapes shapes = server.Proxy();
        const int Threads = 8;
        const int CallsPerThread = 50;

        Task[] workers = new Task[Threads];
        for (int t = 0; t < Threads; t++)
        {
            int thread = t;
            workers[t] = Task.Factory.StartNew(
                () =>
                {
                    for (int i = 0; i < CallsPerThread; i++)
                    {
                        // Each result depends on this caller's own arguments, so a crossed reply would show.
                        int a = (thread * 1000) + i;
                        Assert.Equal(a + thread, shapes.Add(a, thread));
                    }
                },
                TestContext.Current.CancellationToken,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default);
        }

        await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        Assert.Equal(Threads * CallsPerThread, server.Implementation.Adds);
    }

    [Fact]
    public async Task Concurrent_async_callers_on_one_client_each_get_their_own_result()
    {
        using var server = TestServer.Start(Transport.Tcp);
        IShapes shapes = server.Proxy();

        Task<int>[] calls = Enumerable.Range(0, 200)
            .Select(i => shapes.LengthAsync(new string('x', i), CancellationToken.None))
            .ToArray();
        int[] lengths = await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);

        Assert.Equal(Enumerable.Range(0, 200), lengths);
    }
}
