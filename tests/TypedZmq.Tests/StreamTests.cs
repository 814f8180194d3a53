using TypedZmq.Tests.Contracts;
using TypedZmq.Tests.Infrastructure;
using static TypedZmq.Tests.Infrastructure.WireFormat;

namespace TypedZmq.Tests;

/// <summary>
/// Streams (docs/streams.md): methods returning <c>IAsyncEnumerable&lt;T&gt;</c>, pulled by the client in chunks of at
/// most its credit, ended by either side, bounded and cleaned up on the server.
/// </summary>
public sealed class StreamTests
{
    public static TheoryData<RpcServerKind, RpcChannelKind, Transport> Setups()
    {
        var data = new TheoryData<RpcServerKind, RpcChannelKind, Transport>();
        foreach (RpcServerKind kind in new[] { RpcServerKind.Reply, RpcServerKind.Concurrent })
        {
            foreach (RpcChannelKind channel in new[] { RpcChannelKind.Request, RpcChannelKind.Multiplexed })
            {
                foreach (Transport transport in new[] { Transport.Tcp, Transport.Inproc })
                {
                    data.Add(kind, channel, transport);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Setups))]
    public async Task Every_item_arrives_in_order_once(RpcServerKind kind, RpcChannelKind channel, Transport transport)
    {
        using var server = new StreamServer(transport, kind);
        using RpcClient client = server.Client(channel);
        IStreams streams = client.CreateProxy<IStreams>();

        int expected = 0;
        await foreach (int item in streams.Count(20_000, TestContext.Current.CancellationToken))
        {
            Assert.Equal(expected++, item);
        }

        Assert.Equal(20_000, expected);
        Assert.Equal(["a", "a", "a"], await ToListAsync(streams.Repeat("a", 3)));
        Assert.Empty(await ToListAsync(streams.Repeat("a", 0)));
        await Eventually.WaitUntil(() => server.Server.OpenStreams == 0);
    }

    [Fact]
    public async Task A_million_small_items_arrive_in_order_none_missing_or_repeated()
    {
        using var server = new StreamServer(Transport.Tcp, RpcServerKind.Concurrent);
        using RpcClient client = server.Client(RpcChannelKind.Multiplexed, credit: 8192);
        IStreams streams = client.CreateProxy<IStreams>();

        long count = 0;
        long sum = 0;
        int previous = -1;
        await foreach (int item in streams.Count(1_000_000, TestContext.Current.CancellationToken))
        {
            Assert.True(item == previous + 1, $"item {item} came after {previous}");
            previous = item;
            count++;
            sum += item;
        }

        Assert.Equal(1_000_000, count);
        Assert.Equal(999_999L * 1_000_000 / 2, sum);
    }

    [Theory]
    [InlineData(RpcChannelKind.Request)]
    [InlineData(RpcChannelKind.Multiplexed)]
    public async Task A_slow_reader_keeps_the_producer_within_its_credit(RpcChannelKind channel)
    {
        const int credit = 8;
        using var server = new StreamServer(Transport.Tcp, RpcServerKind.Concurrent);
        using RpcClient client = server.Client(channel, credit: credit);
        IStreams streams = client.CreateProxy<IStreams>();

        long mostAhead = 0;
        int read = 0;
        await foreach (long item in streams.Forever(TestContext.Current.CancellationToken))
        {
            await Task.Delay(10, TestContext.Current.CancellationToken); // one item per 10 ms
            mostAhead = Math.Max(mostAhead, server.Implementation.Produced - item);
            if (++read == 60)
            {
                break;
            }
        }

        // The producer runs only while a pull asks: the chunk being read, one more asked for ahead of the reader on the
        // multiplexed channel, and the item it is working on.
        long bound = channel == RpcChannelKind.Multiplexed ? (2 * credit) + 1 : credit + 1;
        Assert.InRange(mostAhead, 1, bound);
    }

    [Theory]
    [MemberData(nameof(Setups))]
    public async Task Breaking_out_of_the_loop_stops_the_producer_on_the_server(RpcServerKind kind, RpcChannelKind channel, Transport transport)
    {
        using var server = new StreamServer(transport, kind);
        using RpcClient client = server.Client(channel);
        IStreams streams = client.CreateProxy<IStreams>();

        await foreach (long item in streams.Forever(TestContext.Current.CancellationToken))
        {
            if (item == 20)
            {
                break;
            }
        }

        await Eventually.WaitUntil(() => server.Implementation.Stopped == 1 && server.Implementation.Running == 0 && server.Server.OpenStreams == 0,
            TimeSpan.FromSeconds(10));
        Assert.Equal(3, (await ToListAsync(streams.Repeat("x", 3))).Count); // and the client carries on
    }

    [Theory]
    [InlineData(RpcChannelKind.Request)]
    [InlineData(RpcChannelKind.Multiplexed)]
    public async Task Cancelling_the_reader_stops_the_producer(RpcChannelKind channel)
    {
        using var server = new StreamServer(Transport.Tcp, RpcServerKind.Concurrent);
        using RpcClient client = server.Client(channel);
        IStreams streams = client.CreateProxy<IStreams>();
        using var cancel = new CancellationTokenSource();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (long item in streams.Forever(CancellationToken.None).WithCancellation(cancel.Token))
            {
                if (item == 10)
                {
                    await cancel.CancelAsync();
                }
            }
        });

        await Eventually.WaitUntil(() => server.Implementation.Stopped == 1 && server.Server.OpenStreams == 0, TimeSpan.FromSeconds(10));
    }

    [Theory]
    [MemberData(nameof(Setups))]
    public async Task A_producer_that_throws_fails_the_reader_after_the_items_it_produced(RpcServerKind kind, RpcChannelKind channel, Transport transport)
    {
        using var server = new StreamServer(transport, kind);
        using RpcClient client = server.Client(channel);
        IStreams streams = client.CreateProxy<IStreams>();

        var items = new List<int>();
        RpcException error = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            await foreach (int item in streams.FailAfter(5, "the disk is gone"))
            {
                items.Add(item);
            }
        });

        Assert.Equal([0, 1, 2, 3, 4], items);
        Assert.Equal(RpcStatus.RemoteError, error.Status);
        Assert.Contains("the disk is gone", error.Message);
        await Eventually.WaitUntil(() => server.Server.OpenStreams == 0);
    }

    [Fact]
    public async Task A_producer_that_throws_at_once_from_MoveNextAsync_still_sends_its_items_first()
    {
        using var server = new StreamServer(Transport.Tcp, RpcServerKind.Concurrent);
        using RpcClient client = server.Client(RpcChannelKind.Multiplexed);

        var items = new List<int>();
        RpcException error = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            await foreach (int item in client.CreateProxy<IStreams>().ThrowsAtOnce(5))
            {
                items.Add(item);
            }
        });

        Assert.Equal([0, 1, 2, 3, 4], items);
        Assert.Equal(RpcStatus.RemoteError, error.Status);
        Assert.Contains("thrown at once", error.Message);
    }

    [Fact]
    public async Task Disposing_the_client_ends_its_streams_on_the_server()
    {
        using var server = new StreamServer(Transport.Tcp, RpcServerKind.Concurrent);
        RpcClient client = server.Client(RpcChannelKind.Multiplexed);
        IAsyncEnumerator<long> reader = client.CreateProxy<IStreams>().Forever(CancellationToken.None).GetAsyncEnumerator(TestContext.Current.CancellationToken);
        Assert.True(await reader.MoveNextAsync());
        Assert.Equal(1, server.Server.OpenStreams);

        client.Dispose();

        await Eventually.WaitUntil(() => server.Implementation.Stopped == 1 && server.Server.OpenStreams == 0, TimeSpan.FromSeconds(10));
        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            while (await reader.MoveNextAsync())
            {
            }
        });
    }

    [Theory]
    [InlineData(RpcServerKind.Reply)]
    [InlineData(RpcServerKind.Concurrent)]
    public async Task Stopping_the_server_ends_its_streams_with_a_status(RpcServerKind kind)
    {
        var server = new StreamServer(Transport.Tcp, kind);
        using RpcClient client = server.Client(RpcChannelKind.Multiplexed);
        await using IAsyncEnumerator<long> reader = client.CreateProxy<IStreams>().Forever(CancellationToken.None).GetAsyncEnumerator(TestContext.Current.CancellationToken);
        Assert.True(await reader.MoveNextAsync());

        server.Dispose();

        RpcException error = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            while (await reader.MoveNextAsync())
            {
            }
        });
        Assert.Contains(error.Status, new[] { RpcStatus.Cancelled, RpcStatus.Unavailable, RpcStatus.DeadlineExceeded });
        await Eventually.WaitUntil(() => server.Implementation.Stopped == 1 && server.Implementation.Running == 0, TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_stream_nobody_pulls_is_ended_after_the_idle_timeout()
    {
        using var server = new StreamServer(Transport.Tcp, RpcServerKind.Concurrent, idle: TimeSpan.FromMilliseconds(300));
        using RpcClient client = server.Client(RpcChannelKind.Request); // pulls only when the reader asks
        await using IAsyncEnumerator<long> reader = client.CreateProxy<IStreams>().Forever(CancellationToken.None).GetAsyncEnumerator(TestContext.Current.CancellationToken);
        Assert.True(await reader.MoveNextAsync());
        Assert.Equal(1, server.Server.OpenStreams);

        // The reader holds the enumerator and never asks again, as a client that crashed would.
        await Eventually.WaitUntil(() => server.Implementation.Stopped == 1 && server.Server.OpenStreams == 0, TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Opening_more_streams_than_the_server_allows_a_client_is_refused_with_Unavailable()
    {
        using var server = new StreamServer(Transport.Tcp, RpcServerKind.Concurrent, perPeer: 2);
        using RpcClient client = server.Client(RpcChannelKind.Multiplexed);
        IStreams streams = client.CreateProxy<IStreams>();
        await using IAsyncEnumerator<long> first = streams.Forever(CancellationToken.None).GetAsyncEnumerator(TestContext.Current.CancellationToken);
        await using IAsyncEnumerator<long> second = streams.Forever(CancellationToken.None).GetAsyncEnumerator(TestContext.Current.CancellationToken);
        Assert.True(await first.MoveNextAsync());
        Assert.True(await second.MoveNextAsync());

        RpcException refused = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            await foreach (long _ in streams.Forever(CancellationToken.None))
            {
            }
        });

        Assert.Equal(RpcStatus.Unavailable, refused.Status);
        Assert.Contains("MaxOpenStreamsPerPeer", refused.Message);
        Assert.Equal(2, server.Server.OpenStreams);
    }

    [Fact]
    public async Task The_request_channel_with_several_endpoints_refuses_streams_and_says_why()
    {
        using var client = new RpcClient(new RpcClientOptions { Endpoint = "tcp://127.0.0.1:1,tcp://127.0.0.1:2" });
        NotSupportedException refused = await Assert.ThrowsAsync<NotSupportedException>(async () =>
        {
            await foreach (int _ in client.CreateProxy<IStreams>().Count(1, CancellationToken.None))
            {
            }
        });

        Assert.Contains("multiplexed", refused.Message);
    }

    [Fact]
    public void Hostile_pulls_get_clear_errors_and_the_server_keeps_serving()
    {
        using var server = new StreamServer(Transport.Tcp, RpcServerKind.Concurrent);
        using var peer = new RawPeer(server.Endpoint);
        uint service = Fnv1a("TypedZmq.Tests.Contracts.IStreams");
        uint count = Fnv1a("Count(System.Int32)");

        byte[] Pull(ulong requestId, byte[] payload) => Message(Header(1, requestId, service, count, flags: 0x10), payload);
        byte[] Answer(byte[] message) => Assert.Single(peer.Exchange(message));

        // A stream that was never opened, a payload of the wrong size, a credit out of range.
        Assert.Equal(RpcStatus.Cancelled, ParseHeader(Answer(Pull(1, [.. BitConverter.GetBytes(77UL), .. BitConverter.GetBytes(10)]))).Status);
        Assert.Equal(RpcStatus.BadRequest, ParseHeader(Answer(Pull(2, [1, 2, 3]))).Status);
        Assert.Equal(RpcStatus.BadRequest, ParseHeader(Answer(Pull(3, [.. BitConverter.GetBytes(77UL), .. BitConverter.GetBytes(-1)]))).Status);
        Assert.Equal(RpcStatus.BadRequest, ParseHeader(Answer(Pull(4, [.. BitConverter.GetBytes(77UL), .. BitConverter.GetBytes(1 << 20)]))).Status);

        // Open one (request 10), pull it, and close it with a credit of 0.
        byte[] opened = Answer(Message(Header(1, 10, service, count), Int32s(3)));
        Assert.Equal(2, opened[2]);
        Assert.Equal([1, 0, 0, 0, 0], Payload(opened)); // more = true, no items yet
        byte[] chunk = Answer(Pull(11, [.. BitConverter.GetBytes(10UL), .. BitConverter.GetBytes(2)]));
        Assert.Equal([1, 2, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0], Payload(chunk)); // more, two items: 0 and 1
        byte[] closed = Answer(Pull(12, [.. BitConverter.GetBytes(10UL), .. BitConverter.GetBytes(0)]));
        Assert.Equal([0, 0, 0, 0, 0], Payload(closed));
        Assert.Equal(0, server.Server.OpenStreams);
        Assert.Equal(RpcStatus.Cancelled, ParseHeader(Answer(Pull(13, [.. BitConverter.GetBytes(10UL), .. BitConverter.GetBytes(2)]))).Status);
    }

    [Theory]
    [MemberData(nameof(Setups))]
    public async Task A_client_stream_reaches_the_method_whole_and_its_result_comes_back(RpcServerKind kind, RpcChannelKind channel, Transport transport)
    {
        using var server = new StreamServer(transport, kind);
        using RpcClient client = server.Client(channel);
        IStreams streams = client.CreateProxy<IStreams>();

        Assert.Equal("ten thousand: 10000 values, sum 49995000", await streams.Sum("ten thousand", Numbers(10_000), TestContext.Current.CancellationToken));
        Assert.Equal("none: 0 values, sum 0", await streams.Sum("none", Numbers(0), TestContext.Current.CancellationToken));
        await streams.Collect(Words("a", "b", "c"));
        Assert.Equal(["a", "b", "c"], server.Implementation.Collected);
        await Eventually.WaitUntil(() => server.Server.OpenStreams == 0);
    }

    [Fact]
    public async Task A_client_sends_a_hundred_thousand_items_and_gets_a_result_computed_from_all_of_them()
    {
        using var server = new StreamServer(Transport.Tcp, RpcServerKind.Concurrent);
        using RpcClient client = server.Client(RpcChannelKind.Multiplexed, credit: 1024);

        string result = await client.CreateProxy<IStreams>().Sum("all", Numbers(100_000), TestContext.Current.CancellationToken);

        Assert.Equal("all: 100000 values, sum 4999950000", result);
    }

    [Theory]
    [InlineData(RpcChannelKind.Request)]
    [InlineData(RpcChannelKind.Multiplexed)]
    public async Task A_client_stream_whose_method_throws_fails_the_call_with_RemoteError(RpcChannelKind channel)
    {
        using var server = new StreamServer(Transport.Tcp, RpcServerKind.Concurrent);
        using RpcClient client = server.Client(channel, credit: 16);

        RpcException error = await Assert.ThrowsAsync<RpcException>(() => client.CreateProxy<IStreams>().FailAfterReading(100, Numbers(10_000)).AsTask());

        Assert.Equal(RpcStatus.RemoteError, error.Status);
        Assert.Contains("stopped after 100 values", error.Message);
        await Eventually.WaitUntil(() => server.Server.OpenStreams == 0);
    }

    [Theory]
    [InlineData(RpcChannelKind.Request)]
    [InlineData(RpcChannelKind.Multiplexed)]
    public async Task Items_that_fail_on_the_client_end_the_call_on_the_server(RpcChannelKind channel)
    {
        using var server = new StreamServer(Transport.Tcp, RpcServerKind.Concurrent);
        using RpcClient client = server.Client(channel, credit: 16);

        await Assert.ThrowsAsync<FormatException>(() => client.CreateProxy<IStreams>().Sum("broken", Broken(), TestContext.Current.CancellationToken));

        await Eventually.WaitUntil(() => server.Server.OpenStreams == 0, TimeSpan.FromSeconds(10));
        await Eventually.WaitUntil(() => server.Implementation.ClientStreamsEnded >= 1, TimeSpan.FromSeconds(10));
        Assert.Equal(1, server.Implementation.ClientStreamsEnded);
    }

    [Theory]
    [InlineData(RpcChannelKind.Request)]
    [InlineData(RpcChannelKind.Multiplexed)]
    public async Task A_method_that_stops_reading_early_answers_and_the_client_is_not_left_waiting(RpcChannelKind channel)
    {
        // It reads one value of 50,000 and returns: the server's buffer (1,024) fills, and the pushes must still end.
        using var server = new StreamServer(Transport.Tcp, RpcServerKind.Concurrent);
        using RpcClient client = server.Client(channel, credit: 512);

        int first = await client.CreateProxy<IStreams>().TakeFirst(Numbers(50_000)).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        Assert.Equal(0, first);
        await Eventually.WaitUntil(() => server.Server.OpenStreams == 0);
    }

    [Fact]
    public void A_pull_on_a_quiet_stream_is_answered_with_an_empty_chunk_within_the_keep_alive()
    {
        // StreamIdleTimeout 400 ms: the keep-alive is half of it. Without it a pull would wait the whole 60 s.
        using var server = new StreamServer(Transport.Tcp, RpcServerKind.Concurrent, idle: TimeSpan.FromMilliseconds(400));
        using var peer = new RawPeer(server.Endpoint);
        uint service = Fnv1a("TypedZmq.Tests.Contracts.IStreams");
        uint after = Fnv1a("After(System.Int32)");

        Assert.Equal(2, Assert.Single(peer.Exchange(Message(Header(1, 20, service, after), Int32s(60_000))))[2]);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        byte[] chunk = Assert.Single(peer.Exchange(Message(Header(1, 21, service, after, flags: 0x10), [.. BitConverter.GetBytes(20UL), .. BitConverter.GetBytes(4)])));

        Assert.Equal([1, 0, 0, 0, 0], Payload(chunk)); // more to come, no item yet
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"answered after {watch.Elapsed}");
        Assert.Equal(1, server.Server.OpenStreams); // still open: the client is there
    }

    [Fact]
    public async Task A_reader_that_leaves_ends_its_stream_even_when_the_server_is_full_of_waiting_pulls()
    {
        // Two quiet streams hold both of the server's call slots with their waiting pulls. Cancelling one reader ends
        // its stream at once: the multiplexed channel says so with a cancel, which no limit holds back.
        using var server = new StreamServer(Transport.Tcp, RpcServerKind.Concurrent, maxConcurrentCalls: 2);
        using RpcClient client = server.Client(RpcChannelKind.Multiplexed);
        IStreams streams = client.CreateProxy<IStreams>();
        using var leave = new CancellationTokenSource();
        Task first = ReadAllAsync(streams.After(60_000, CancellationToken.None), leave.Token);
        Task second = ReadAllAsync(streams.After(60_000, CancellationToken.None), TestContext.Current.CancellationToken);
        await Eventually.WaitUntil(() => server.Server.OpenStreams == 2 && server.Server.InFlight == 2);

        await leave.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);
        await Eventually.WaitUntil(() => server.Server.OpenStreams == 1, TimeSpan.FromSeconds(10));
        Assert.False(second.IsCompleted);

        static async Task ReadAllAsync(IAsyncEnumerable<int> items, CancellationToken cancellationToken)
        {
            await foreach (int _ in items.WithCancellation(cancellationToken))
            {
            }
        }
    }

    private static async IAsyncEnumerable<int> Numbers(int count)
    {
        for (int i = 0; i < count; i++)
        {
            if (i % 1000 == 999)
            {
                await Task.Yield();
            }

            yield return i;
        }
    }

    private static async IAsyncEnumerable<string> Words(params string[] words)
    {
        foreach (string word in words)
        {
            await Task.Yield();
            yield return word;
        }
    }

    private static async IAsyncEnumerable<int> Broken()
    {
        for (int i = 0; i < 50; i++)
        {
            await Task.Yield();
            yield return i;
        }

        throw new FormatException("the input file is damaged");
    }

    private static async Task<List<T>> ToListAsync<T>(IAsyncEnumerable<T> source)
    {
        var list = new List<T>();
        await foreach (T item in source)
        {
            list.Add(item);
        }

        return list;
    }

    /// <summary>A server hosting <see cref="Streams"/> on a fresh endpoint.</summary>
    private sealed class StreamServer : IDisposable
    {
        public StreamServer(Transport transport, RpcServerKind kind, TimeSpan? idle = null, int perPeer = 100, int maxConcurrentCalls = 1024)
        {
            Server = new RpcServer(new RpcServerOptions
            {
                Endpoint = transport == Transport.Tcp ? "tcp://127.0.0.1:0" : $"inproc://typedzmq-streams-{Guid.NewGuid():N}",
                Kind = kind,
                StreamIdleTimeout = idle ?? TimeSpan.FromMinutes(1),
                MaxOpenStreamsPerPeer = perPeer,
                MaxConcurrentCalls = maxConcurrentCalls,
                StopTimeout = TimeSpan.FromSeconds(2),
            });
            Server.AddService<IStreams>(Implementation);
            Server.Start();
            Endpoint = Server.BoundEndpoint!;
        }

        public RpcServer Server { get; }

        public Streams Implementation { get; } = new();

        public string Endpoint { get; }

        public RpcClient Client(RpcChannelKind channel, int credit = 64) =>
            new(new RpcClientOptions { Endpoint = Endpoint, Channel = channel, StreamCredit = credit, Timeout = TimeSpan.FromSeconds(30) });

        public void Dispose() => Server.Dispose();
    }
}
