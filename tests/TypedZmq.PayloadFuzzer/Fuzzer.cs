using System.Buffers.Binary;
using MemoryPack;
using TypedZmq.Client;
using TypedZmq.Internal;
using TypedZmq.Protocol;

namespace TypedZmq.PayloadFuzzer;

/// <summary>
/// Feeds hostile payloads to the server's argument decoding (through the generated dispatcher) and the client's result
/// and error decoding, each placed flush against a guard page on either side. Every payload must be decoded or refused
/// with an <see cref="RpcException"/>; anything else is counted as a failure and printed.
/// </summary>
internal sealed class Fuzzer : IDisposable
{
    private delegate void Decoder(ReadOnlySpan<byte> payload);

    private readonly Random _random;
    private readonly Values _values;
    private readonly GuardedMemory _memory = new(4 << 20);
    private readonly RpcServiceDispatcher _dispatcher = RpcServiceRegistry.GetDispatcherFactory<IFuzzTarget>()(new FuzzTarget());
    private readonly RpcServerCall _call = new();
    private readonly CapturingChannel _channel = new();
    private readonly IFuzzTarget _proxy;
    private readonly List<Target> _targets = [];
    private long _accepted;
    private long _refused;

    public Fuzzer(int seed)
    {
        _random = new Random(seed);
        _values = new Values(_random);
        _proxy = RpcServiceRegistry.GetProxyFactory<IFuzzTarget>()(_channel);

        AddArguments(p => p.Strings(_values.Text(), _values.MaybeText()));
        AddArguments(p => p.Arrays(_values.Many(_values.Int), _values.Many(_values.Text), _random.Next(3) == 0 ? null : _values.Many(_values.Long)));
        AddArguments(p => p.Lists([.. _values.Many(_values.Text)], [.. _values.Many(_values.Long)], _values.Many(_values.Line)));
        AddArguments(p => p.Dictionaries(
            _values.Many(_values.Text).Distinct().ToDictionary(k => k, _ => _values.Int()),
            _values.Many(_values.Int).Distinct().ToDictionary(k => k, _ => _values.Person()),
            _values.Many(Guid.NewGuid).ToDictionary(k => k, _ => _values.Many(_values.Text))));
        AddArguments(p => p.Nullables(
            _random.Next(2) == 0 ? null : _values.Int(),
            _random.Next(2) == 0 ? null : Guid.NewGuid(),
            _random.Next(2) == 0 ? null : _values.Person(),
            _random.Next(2) == 0 ? null : (_values.Text(), _values.Int())));
        AddArguments(p => p.Records(_values.Person(), _values.Order()));
        AddArguments(p => p.Wide(_values.Many(_values.Wide16), _values.Many(_values.Wide64), [.. _values.Many(_values.Wide64)]));
        AddArguments(p => p.Tuples((_values.Int(), _values.Text()), Tuple.Create(_values.Text(), _values.Int()), new(_values.Text(), _values.Long())));
        AddArguments(p => p.Special(_values.Big(), _values.Grid(), _values.Bits(), new Version(1, 2, 3, 4), new Uri("tcp://127.0.0.1:" + _random.Next(65536))));
        AddArguments(p => p.Tolerant(_values.Evolving(), _values.Shape()));
        AddArguments(p => p.Tree(_values.Node()));
        AddArguments(p => p.EchoString(_values.Text()));
        AddArguments(p => p.Layouts(_values.Derived(), _values.Box(), _values.Linked()));

        AddResult(p => p.EchoString(""), () => Encode(_values.Text(), utf16: _random.Next(2) == 0), Decode<string>);
        AddResult(p => p.EchoPerson(null!), () => Encode(_values.Person(), utf16: _random.Next(2) == 0), Decode<Person>);
        AddResult(p => p.EchoOrder(null!), () => Encode(_values.Order(), utf16: false), Decode<Order>);
        AddResult(p => p.EchoIndex(null!), () => Encode(_values.Index(), utf16: false), Decode<Dictionary<string, List<Line>>>);
        AddResult(p => p.EchoString(""), () => ErrorBody(), DecodeError);
    }

    public long Failures { get; private set; }

    public string Summary => $"{_accepted + _refused + Failures} payloads, {_accepted} decoded, {_refused} refused, {Failures} failures";

    /// <summary>
    /// Every seed, with each boundary length at every offset where a length could stand, each interesting byte at every
    /// offset, and every truncation; plus payloads crafted for known MemoryPack pitfalls.
    /// </summary>
    public void RunSystematic()
    {
        // Valid payloads, as a real peer encodes them, must all pass the schema walk and decode: the walk follows
        // MemoryPack's layout exactly, or it would refuse honest calls.
        foreach (Target target in _targets)
        {
            for (int s = 0; s < 200; s++)
            {
                Run(target, target.Seed(), mustDecode: true);
            }
        }

        RunCrafted();
        foreach (Target target in _targets)
        {
            for (int s = 0; s < 3; s++)
            {
                byte[] seed = target.Seed();
                var work = new byte[seed.Length];
                for (int offset = 0; offset + 4 <= seed.Length; offset++)
                {
                    foreach (int value in BoundaryValues(seed.Length - offset - 4))
                    {
                        seed.CopyTo(work, 0);
                        BinaryPrimitives.WriteInt32LittleEndian(work.AsSpan(offset), value);
                        Run(target, work);
                    }
                }

                for (int offset = 0; offset < seed.Length; offset++)
                {
                    foreach (byte value in InterestingBytes)
                    {
                        seed.CopyTo(work, 0);
                        work[offset] = value;
                        Run(target, work);
                    }
                }

                for (int length = 0; length < seed.Length; length++)
                {
                    Run(target, seed.AsSpan(0, length));
                }
            }
        }
    }

    /// <summary>Random combinations of mutations until the time is up.</summary>
    public void RunRandom(TimeSpan budget)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (watch.Elapsed < budget)
        {
            Target target = _targets[_random.Next(_targets.Count)];
            var payload = new List<byte>(target.Seed());
            int mutations = _random.Next(1, 5);
            for (int m = 0; m < mutations; m++)
            {
                Mutate(payload);
            }

            Run(target, payload.ToArray());
        }
    }

    public void Dispose() => ((IDisposable)_memory).Dispose();

    private static readonly byte[] InterestingBytes = [0x00, 0x01, 0x02, 0x7F, 0x80, 0x81, 0x82, 0x83, 0x84, 0x87, 0x88, 0xF9, 0xFA, 0xFB, 0xFE, 0xFF];

    private static IEnumerable<int> BoundaryValues(int remaining)
    {
        for (int k = 0; k <= 8; k++)
        {
            yield return int.MinValue + k;
            yield return int.MaxValue - k;
        }

        yield return -2;
        yield return -1;
        yield return 0;
        foreach (int r in new[] { remaining - 1, remaining, remaining + 1, remaining + 2, (remaining / 2) + 1, (remaining / 4) + 1, (remaining / 16) + 1 })
        {
            yield return r;
            yield return ~r; // the UTF-8 string form stores the complement of its byte count
        }

        // Counts whose product with an element size wraps a 32-bit int: 2^31 / 16, / 64, and 2^26.
        yield return 1 << 27;
        yield return 1 << 25;
        yield return 1 << 26;
    }

    private void Mutate(List<byte> payload)
    {
        int position = payload.Count == 0 ? 0 : _random.Next(payload.Count);
        switch (_random.Next(6))
        {
            case 0 when payload.Count >= 4:
                position = _random.Next(payload.Count - 3);
                int[] values = BoundaryValues(payload.Count - position - 4).ToArray();
                int value = values[_random.Next(values.Length)];
                for (int i = 0; i < 4; i++)
                {
                    payload[position + i] = (byte)(value >> (8 * i));
                }

                break;
            case 1 when payload.Count > 0:
                payload[position] = InterestingBytes[_random.Next(InterestingBytes.Length)];
                break;
            case 2 when payload.Count > 0:
                payload[position] = (byte)_random.Next(256);
                break;
            case 3:
                payload.InsertRange(position, Enumerable.Range(0, _random.Next(1, 9)).Select(_ => (byte)_random.Next(256)));
                break;
            case 4 when payload.Count > 0:
                payload.RemoveRange(position, Math.Min(payload.Count - position, _random.Next(1, 9)));
                break;
            default:
                payload.Clear();
                payload.AddRange(Enumerable.Range(0, _random.Next(0, 64)).Select(_ => (byte)_random.Next(256)));
                break;
        }
    }

    private void RunCrafted()
    {
        Target strings = _targets.First(t => t.Method.MethodName == "EchoString" && t.Decoder is null);

        // The request that killed any server (issue 16): a UTF-8 string prefix of 0x80000000, then "Hello".
        Run(strings, [0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, (byte)'H', (byte)'e', (byte)'l', (byte)'l', (byte)'o']);
        for (int k = 0; k < 4; k++)
        {
            Run(strings, [(byte)k, 0x00, 0x00, 0x80, 0x05, 0x00, 0x00, 0x00, (byte)'H', (byte)'e', (byte)'l', (byte)'l', (byte)'o']);
        }

        // A recursive type nested far deeper than any stack: Node(Value, Label, Next, Children) chained through Next.
        Target tree = _targets.First(t => t.Method.MethodName == "Tree");
        foreach (int depth in new[] { 127, 128, 129, 100_000 })
        {
            var deep = new List<byte>();
            for (int i = 0; i < depth; i++)
            {
                deep.AddRange([4, 0, 0, 0, 0, 0, 0, 0, 0]); // 4 members, Value 0, Label ""
            }

            deep.AddRange([255]); // the last Next is null
            for (int i = 0; i < depth; i++)
            {
                deep.AddRange([0, 0, 0, 0]); // every Children list is empty
            }

            Run(tree, deep.ToArray());
        }
    }

    private void AddArguments(Func<IFuzzTarget, object?> call) =>
        _targets.Add(new Target(Capture(call).Method!, () => Capture(call).Payload, null));


    private void AddResult(Func<IFuzzTarget, object?> call, Func<byte[]> seed, Func<RpcMethod, Decoder> decode)
    {
        RpcMethod method = Capture(call).Method!;
        _targets.Add(new Target(method, seed, decode(method)));
    }

    private CapturingChannel Capture(Func<IFuzzTarget, object?> call)
    {
        call(_proxy);
        return _channel;
    }

    private static byte[] Encode<T>(T value, bool utf16) =>
        MemoryPackSerializer.Serialize(value, utf16 ? MemoryPackSerializerOptions.Utf16 : MemoryPackSerializerOptions.Utf8);

    private byte[] ErrorBody()
    {
        var buffer = new PayloadBuffer();
        PayloadCodec.WriteError(buffer, _values.MaybeText(), _values.Text(), _values.MaybeText());
        return buffer.WrittenSpan.ToArray();
    }

    private static Decoder Decode<T>(RpcMethod method) => payload =>
    {
        var header = new RpcHeader(MessageKind.Reply, RpcStatus.Ok, 1, method.ServiceId, method.MethodId, 0);
        ReplyDecoder.Decode<T>(method, header, payload);
    };

    /// <summary>An error reply decodes into an exception; one whose body could not be read counts as refused.</summary>
    private static Decoder DecodeError(RpcMethod method) => payload =>
    {
        RpcException error = ReplyDecoder.ToException(method, RpcStatus.RemoteError, payload);
        if (error.Message.EndsWith("the error body could not be decoded.", StringComparison.Ordinal))
        {
            throw error;
        }
    };

    private void Run(Target target, ReadOnlySpan<byte> payload, bool mustDecode = false)
    {
        foreach (bool atEnd in new[] { true, false })
        {
            Memory<byte> placed = _memory.Place(payload, atEnd);
            try
            {
                if (target.Decoder is { } decode)
                {
                    decode(placed.Span);
                }
                else
                {
                    _call.Begin(target.Method.MethodId, target.Method.ServiceName, placed, context: null, captureResult: false);
                    ValueTask pending = _dispatcher.DispatchAsync(_call);
                    pending.AsTask().GetAwaiter().GetResult();
                }

                _accepted++;
            }
            catch (RpcException) when (!mustDecode)
            {
                _refused++;
            }
            catch (Exception ex)
            {
                Failures++;
                if (Failures <= 20)
                {
                    Console.WriteLine($"FAILURE {target.Method}: {ex.GetType()}: {ex.Message}\n  payload {Convert.ToHexString(payload)}\n{ex.StackTrace}");
                }
            }
        }
    }

    private sealed record Target(RpcMethod Method, Func<byte[]> Seed, Decoder? Decoder);
}
