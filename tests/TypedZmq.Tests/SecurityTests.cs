using System.Net;
using System.Net.Sockets;
using System.Text;
using TypedZmq.Protocol;
using TypedZmq.Security;
using TypedZmq.Tests.Contracts;
using TypedZmq.Tests.Infrastructure;
using static TypedZmq.Tests.Infrastructure.WireFormat;

namespace TypedZmq.Tests;

/// <summary>
/// Secure mode (docs/security.md): only allowed client keys are served, nothing readable crosses the wire, replays and
/// tampered messages are refused without running, replies are authenticated, and the ZMTP/1.0 downgrade NetMQ allows
/// gains an attacker nothing. Each test that shows something is hidden first shows that it can see it when it is not.
/// </summary>
public sealed class SecurityTests
{
    private const string Marker = "TZMQ-SECRET-MARKER-5f3a9c";
    private static readonly byte[] MarkerBytes = Encoding.UTF8.GetBytes(Marker);
    private static readonly uint ServiceId = Fnv1a("TypedZmq.Tests.Contracts.IShapes");
    private static readonly uint AddId = Fnv1a("Add(System.Int32,System.Int32)");

    private static readonly RpcKeyPair ServerKey = RpcKeyPair.Generate();
    private static readonly RpcKeyPair Alice = RpcKeyPair.Generate();
    private static readonly RpcKeyPair Bob = RpcKeyPair.Generate();
    private static readonly RpcKeyPair Mallory = RpcKeyPair.Generate();

    public static TheoryData<RpcServerKind, RpcChannelKind> Kinds => new()
    {
        { RpcServerKind.Reply, RpcChannelKind.Request },
        { RpcServerKind.Reply, RpcChannelKind.Multiplexed },
        { RpcServerKind.Concurrent, RpcChannelKind.Request },
        { RpcServerKind.Concurrent, RpcChannelKind.Multiplexed },
    };

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Allowed_clients_make_typed_calls_and_the_server_knows_who_called(RpcServerKind kind, RpcChannelKind channel)
    {
        using TestServer server = StartSecure(kind);
        using RpcClient client = SecureClient(server.Endpoint, Alice, channel);
        IShapes shapes = client.CreateProxy<IShapes>();

        Assert.Equal(5, shapes.Add(2, 3));
        Assert.Equal(9, await shapes.AddAsync(4, 5));
        Assert.Equal(Marker, shapes.Echo(Marker));
        Assert.Null(shapes.Echo(null));
        Assert.Equal(["a", "b"], shapes.Split("a,b", ','));
        var failure = Assert.Throws<RpcException>(() => shapes.Fail("boom"));
        Assert.Equal(RpcStatus.RemoteError, failure.Status);
        Assert.Contains("boom", failure.Message);

        CallSeen seen = await shapes.DescribeCallAsync("none");
        Assert.Equal("alice", seen.Peer);
    }

    [Theory]
    [InlineData(RpcChannelKind.Request, false)]
    [InlineData(RpcChannelKind.Multiplexed, false)]
    [InlineData(RpcChannelKind.Request, true)]
    [InlineData(RpcChannelKind.Multiplexed, true)]
    public void A_relay_on_the_path_sees_the_marker_in_plain_mode_and_nowhere_in_secure_mode(RpcChannelKind channel, bool secure)
    {
        using TestServer server = secure ? StartSecure(RpcServerKind.Concurrent, Transport.Tcp) : TestServer.Start(Transport.Tcp, RpcServerKind.Concurrent);
        using var relay = new TcpRelay(server.Endpoint);
        using RpcClient client = secure
            ? SecureClient(relay.Endpoint, Alice, channel)
            : new RpcClient(new RpcClientOptions { Endpoint = relay.Endpoint, Channel = channel });
        IShapes shapes = client.CreateProxy<IShapes>();

        // The marker goes out as an argument, comes back as a result, and names a method in an error's text.
        Assert.Equal(Marker, shapes.Echo(Marker));
        Assert.Equal(RpcStatus.RemoteError, Assert.Throws<RpcException>(() => shapes.Fail(Marker)).Status);
        Assert.Contains("a,b", string.Join(",", shapes.Split("a,b", ',')));

        byte[] captured = relay.Captured();
        Assert.True(captured.Length > 300, $"the relay captured only {captured.Length} bytes");
        bool seen = captured.AsSpan().IndexOf(MarkerBytes) >= 0;
        bool methodNamed = captured.AsSpan().IndexOf("InvalidOperationException"u8) >= 0;
        Assert.Equal(!secure, seen);
        Assert.Equal(!secure, methodNamed);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Unknown_and_missing_keys_are_refused_without_running_and_without_naming_the_services(RpcServerKind kind, RpcChannelKind channel)
    {
        using TestServer server = StartSecure(kind);
        using RpcClient unknown = SecureClient(server.Endpoint, Mallory, channel);
        using var missing = new RpcClient(new RpcClientOptions { Endpoint = server.Endpoint, Channel = channel });

        foreach (RpcClient client in new[] { unknown, missing })
        {
            var refused = Assert.Throws<RpcException>(() => client.CreateProxy<IShapes>().Add(1, 2));
            Assert.Equal(RpcStatus.Unauthenticated, refused.Status);
            // The client names its own method; what the server said comes after the status and names nothing.
            string serverSaid = refused.Message[(refused.Message.IndexOf("Unauthenticated: ", StringComparison.Ordinal) + 17)..];
            Assert.Contains("allowed client keys", serverSaid);
            Assert.DoesNotContain("IShapes", serverSaid);
            Assert.DoesNotContain("0x", serverSaid);
        }

        Assert.Equal(0, server.Implementation.Adds);
    }

    [Theory]
    [InlineData(RpcServerKind.Reply)]
    [InlineData(RpcServerKind.Concurrent)]
    public void A_key_removed_from_the_allow_list_while_the_server_runs_is_refused_from_its_next_call(RpcServerKind kind)
    {
        RpcServerSecurity security = ServerSecurity();
        using TestServer server = StartSecure(kind, security: security);
        using RpcClient client = SecureClient(server.Endpoint, Alice, RpcChannelKind.Request);
        IShapes shapes = client.CreateProxy<IShapes>();
        Assert.Equal(3, shapes.Add(1, 2));

        Assert.True(security.RemoveClient(Alice.PublicKey));
        Assert.Equal(RpcStatus.Unauthenticated, Assert.Throws<RpcException>(() => shapes.Add(1, 2)).Status);
        Assert.Equal(1, server.Implementation.Adds);

        security.AllowClient(Alice.PublicKey, "alice again");
        Assert.Equal(3, shapes.Add(1, 2));
        Assert.Equal(2, server.Implementation.Adds);
    }

    [Fact]
    public async Task An_Authorize_callback_decides_per_key_and_a_throwing_one_refuses()
    {
        var security = new RpcServerSecurity(ServerKey)
        {
            Authorize = key => key.Equals(Bob.PublicKey) ? "bob (callback)" : key.Equals(Mallory.PublicKey) ? throw new InvalidOperationException("directory down") : null,
        };
        using TestServer server = StartSecure(RpcServerKind.Concurrent, security: security);
        using RpcClient bob = SecureClient(server.Endpoint, Bob, RpcChannelKind.Multiplexed);
        using RpcClient alice = SecureClient(server.Endpoint, Alice, RpcChannelKind.Multiplexed);
        using RpcClient mallory = SecureClient(server.Endpoint, Mallory, RpcChannelKind.Multiplexed);

        Assert.Equal("bob (callback)", (await bob.CreateProxy<IShapes>().DescribeCallAsync("x")).Peer);
        Assert.Equal(RpcStatus.Unauthenticated, Assert.Throws<RpcException>(() => alice.CreateProxy<IShapes>().Add(1, 1)).Status);
        Assert.Equal(RpcStatus.Unauthenticated, Assert.Throws<RpcException>(() => mallory.CreateProxy<IShapes>().Add(1, 1)).Status);
        Assert.Equal(0, server.Implementation.Adds);
    }

    [Theory]
    [InlineData(RpcServerKind.Reply)]
    [InlineData(RpcServerKind.Concurrent)]
    public void A_captured_request_sent_again_or_with_one_byte_changed_is_refused_and_not_run(RpcServerKind kind)
    {
        using TestServer server = StartSecure(kind);
        using var sealer = new ClientSealer(new RpcClientSecurity(Alice, ServerKey.PublicKey));
        byte[] captured = Seal(sealer, requestId: 77, Message(Header(1, 77, ServiceId, AddId), Int32s(20, 22)));

        using var peer = new RawPeer(server.Endpoint);
        Assert.Equal(42, OpenInt32(sealer, peer.Exchange(captured).Single()));
        Assert.Equal(1, server.Implementation.Adds);

        // The replay is authentic (only its freshness fails), so even the refusal is sealed for Alice.
        (RpcStatus status, string message) = OpenError(sealer, peer.Exchange(captured).Single());
        Assert.Equal(RpcStatus.Unauthenticated, status);
        Assert.Contains("seen before", message);

        // One byte changed anywhere after the outer header: in the client key, the nonce, the tag or the ciphertext.
        foreach (int offset in new[] { 32, 70, 90, captured.Length - 1 })
        {
            byte[] tampered = (byte[])captured.Clone();
            tampered[offset] ^= 0x01;
            byte[] answer = peer.Exchange(tampered).Single();
            Assert.Equal(3, ParseHeader(answer).Kind);
            Assert.Equal(RpcStatus.Unauthenticated, ParseHeader(answer).Status);
        }

        // The same request id and arguments, sealed afresh, is a new request: the replay guard is about bytes, not ids.
        byte[] again = peer.Exchange(Seal(sealer, requestId: 78, Message(Header(1, 78, ServiceId, AddId), Int32s(1, 1)))).Single();
        Assert.Equal(5, ParseHeader(again).Kind);
        Assert.Equal(2, server.Implementation.Adds);
    }

    [Fact]
    public void A_request_reflected_to_a_server_with_the_same_key_pair_or_with_its_client_key_re_encoded_is_refused()
    {
        // Alice's key pair serves (allowing Bob) and also calls Bob's server. The box key is the same whichever side
        // computes it, so Alice's request to Bob, relabelled as coming from Bob, opens at Alice's own server.
        using TestServer aliceServer = StartSecure(RpcServerKind.Concurrent, security: new RpcServerSecurity(Alice).AllowClient(Bob.PublicKey, "bob"));
        using var toBob = new ClientSealer(new RpcClientSecurity(Alice, Bob.PublicKey));
        byte[] reflected = Seal(toBob, 9, Message(Header(1, 9, ServiceId, AddId), Int32s(1, 2)));
        Bob.PublicKey.ToByteArray().CopyTo(reflected, 32);
        using var peer = new RawPeer(aliceServer.Endpoint);
        AssertRefused(peer.Exchange(reflected).Single(), RpcStatus.Unauthenticated, "failed authentication");

        // The same client key with its ignored top bit set: the same box key, other bytes. Refused, never a fresh key.
        var allowsAnyone = new RpcServerSecurity(ServerKey) { Authorize = key => "anyone" };
        using TestServer server = StartSecure(RpcServerKind.Concurrent, security: allowsAnyone);
        using var alice = new ClientSealer(new RpcClientSecurity(Alice, ServerKey.PublicKey));
        byte[] captured = Seal(alice, 10, Message(Header(1, 10, ServiceId, AddId), Int32s(1, 2)));
        using var peer2 = new RawPeer(server.Endpoint);
        Assert.Equal(3, OpenInt32(alice, peer2.Exchange(captured).Single()));
        captured[63] ^= 0x80;
        AssertRefused(peer2.Exchange(captured).Single(), RpcStatus.Unauthenticated, "allowed client keys");
        Assert.Equal(0, aliceServer.Implementation.Adds);
        Assert.Equal(1, server.Implementation.Adds);
        Assert.Throws<ArgumentException>(() => RpcPublicKey.FromBytes(captured.AsSpan(32, 32)));
    }

    [Fact]
    public void A_request_sealed_outside_the_replay_window_or_before_the_server_started_is_refused()
    {
        var guard = new ReplayGuard(TimeSpan.FromMinutes(1), capacity: 20, startedUnixMs: 1_000_000);
        long now = 2_000_000;
        Assert.Equal(ReplayGuard.Verdict.Fresh, guard.Check(Alice.PublicKey, 1, 1, now, now));
        Assert.Equal(ReplayGuard.Verdict.Replayed, guard.Check(Alice.PublicKey, 1, 1, now, now));
        Assert.Equal(ReplayGuard.Verdict.Fresh, guard.Check(Alice.PublicKey, 1, 3, now, now));
        Assert.Equal(ReplayGuard.Verdict.Fresh, guard.Check(Alice.PublicKey, 1, 2, now, now)); // out of order, once
        Assert.Equal(ReplayGuard.Verdict.Replayed, guard.Check(Alice.PublicKey, 1, 2, now, now));
        Assert.Equal(ReplayGuard.Verdict.Fresh, guard.Check(Alice.PublicKey, 1, 2000, now, now));
        Assert.Equal(ReplayGuard.Verdict.Replayed, guard.Check(Alice.PublicKey, 1, 3, now, now)); // fell out of the 1024 window
        Assert.Equal(ReplayGuard.Verdict.Fresh, guard.Check(Alice.PublicKey, 1, 1990, now, now));

        Assert.Equal(ReplayGuard.Verdict.OutsideWindow, guard.Check(Alice.PublicKey, 2, 1, now - 61_000, now));
        Assert.Equal(ReplayGuard.Verdict.OutsideWindow, guard.Check(Alice.PublicKey, 2, 1, now + 61_000, now));
        Assert.Equal(ReplayGuard.Verdict.BeforeStart, guard.Check(Alice.PublicKey, 2, 1, 999_000, 1_001_000));

        // Full for one key (a tenth of the table: 2 sessions) while others still get room; the old sessions are kept
        // while they may still be replayed, and make room once they expire.
        Assert.Equal(ReplayGuard.Verdict.Fresh, guard.Check(Alice.PublicKey, 3, 1, now, now));
        Assert.Equal(ReplayGuard.Verdict.Full, guard.Check(Alice.PublicKey, 4, 1, now, now));
        Assert.Equal(ReplayGuard.Verdict.Fresh, guard.Check(Bob.PublicKey, 1, 1, now, now));
        Assert.Equal(ReplayGuard.Verdict.Fresh, guard.Check(Alice.PublicKey, 4, 1, now + 70_000, now + 70_000));
        Assert.Equal(ReplayGuard.Verdict.Replayed, guard.Check(Alice.PublicKey, 4, 1, now + 70_000, now + 70_000));
    }

    [Theory]
    [InlineData(RpcChannelKind.Request)]
    [InlineData(RpcChannelKind.Multiplexed)]
    public void A_client_refuses_replies_its_pinned_server_did_not_seal(RpcChannelKind channel)
    {
        // A server that answers in the clear, as an impostor or a server without secure mode would: a result, and an
        // application error (a status a secure server never sends unsealed). The request channel, whose next message
        // is the answer, fails the call; the multiplexed channel drops the answer (so injected messages cannot fail
        // calls) and the call ends at its deadline. Either way no result and no forged error reach the caller.
        using var fake = new FakeServer();
        using RpcClient client = SecureClient(fake.Endpoint, Alice, channel, TimeSpan.FromSeconds(1));
        IShapes shapes = client.CreateProxy<IShapes>();
        fake.Answer(kind: 2, status: RpcStatus.Ok, Int32s(5));
        fake.Answer(kind: 3, status: RpcStatus.RemoteError, [.. Int32s(~4, 4), .. "Evil"u8, .. Int32s(~4, 4), .. "boom"u8, .. Int32s(-1)]);
        foreach (int attempt in new[] { 1, 2 })
        {
            var refused = Assert.Throws<RpcException>(() => shapes.Add(2, 3));
            if (channel == RpcChannelKind.Request)
            {
                Assert.Equal(RpcStatus.Unauthenticated, refused.Status);
                Assert.Contains("without sealing", refused.Message);
            }
            else
            {
                Assert.Equal(RpcStatus.DeadlineExceeded, refused.Status);
            }

            Assert.Null(refused.RemoteExceptionType);
        }

        // A real server with another key cannot open the request: it refuses it, and the client says so.
        var otherServer = RpcKeyPair.Generate();
        using TestServer impostor = StartSecure(RpcServerKind.Concurrent, security: new RpcServerSecurity(otherServer).AllowClient(Alice.PublicKey, "alice"));
        using RpcClient pinned = SecureClient(impostor.Endpoint, Alice, channel);
        Assert.Equal(RpcStatus.Unauthenticated, Assert.Throws<RpcException>(() => pinned.CreateProxy<IShapes>().Add(1, 1)).Status);
        Assert.Equal(0, impostor.Implementation.Adds);

        // A secure client at a plain server: the server cannot read a sealed request and says so.
        using TestServer plain = TestServer.Start(Transport.Inproc, RpcServerKind.Reply);
        using RpcClient mismatched = SecureClient(plain.Endpoint, Alice, channel);
        var error = Assert.Throws<RpcException>(() => mismatched.CreateProxy<IShapes>().Add(1, 1));
        Assert.Equal(RpcStatus.BadRequest, error.Status);
        Assert.Contains("secure mode", error.Message);
    }

    [Theory]
    [InlineData(RpcChannelKind.Request)]
    [InlineData(RpcChannelKind.Multiplexed)]
    public async Task An_interceptor_refuses_a_method_to_one_key_and_allows_it_to_another(RpcChannelKind channel)
    {
        var options = new RpcServerOptions { Endpoint = "set by TestServer", Kind = RpcServerKind.Concurrent, Security = ServerSecurity() };
        options.Interceptors.Add(new OnlyAliceAdds());
        using TestServer server = TestServer.Start(Transport.Inproc, options);
        using RpcClient alice = SecureClient(server.Endpoint, Alice, channel);
        using RpcClient bob = SecureClient(server.Endpoint, Bob, channel);

        Assert.Equal(3, await alice.CreateProxy<IShapes>().AddAsync(1, 2));
        var denied = await Assert.ThrowsAsync<RpcException>(() => bob.CreateProxy<IShapes>().AddAsync(1, 2));
        Assert.Equal(RpcStatus.PermissionDenied, denied.Status);
        Assert.Contains("bob may not call AddAsync", denied.Message);
        Assert.Equal("x", bob.CreateProxy<IShapes>().Echo("x"));
    }

    [Fact]
    public async Task Downgrade_a_ZMTP_1_0_peer_gets_nothing_run_on_a_secure_server()
    {
        byte[] request = Message(Header(1, 5, ServiceId, AddId), Int32s(1, 2));

        // The same raw peer runs the method on a plain server: the test can see a downgrade succeed.
        using (TestServer plain = TestServer.Start(Transport.Tcp, RpcServerKind.Concurrent))
        using (var peer = await Zmtp10Peer.ConnectAsync(plain.Endpoint))
        {
            await peer.SendAsync([], more: false); // identity
            await peer.SendAsync([], more: true); // delimiter
            await peer.SendAsync(request, more: false);
            await Eventually.WaitUntil(() => plain.Implementation.Adds == 1);
        }

        using TestServer secure = StartSecure(RpcServerKind.Concurrent, Transport.Tcp);
        using (var peer = await Zmtp10Peer.ConnectAsync(secure.Endpoint))
        {
            await peer.SendAsync([], more: false);
            await peer.SendAsync([], more: true);
            await peer.SendAsync(request, more: false);
            await Eventually.WaitUntil(() => peer.ReceivedContains("allowed client keys"u8.ToArray()));
        }

        Assert.Equal(0, secure.Implementation.Adds);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Downgrade_a_fake_ZMTP_1_0_server_receives_no_readable_argument(bool secure)
    {
        using var fake = await Zmtp10Server.StartAsync();
        using RpcClient client = secure
            ? SecureClient(fake.Endpoint, Alice, RpcChannelKind.Multiplexed, TimeSpan.FromSeconds(1))
            : new RpcClient(new RpcClientOptions { Endpoint = fake.Endpoint, Channel = RpcChannelKind.Multiplexed, Timeout = TimeSpan.FromSeconds(1) });
        Task<string?> call = Task.Run(() => client.CreateProxy<IShapes>().Echo(Marker));

        // Wait until the request itself has crossed (a TypedZmq header of a plain or sealed request), then look inside.
        byte[] requestStart = secure ? [0x54, 0x01, 0x04] : [0x54, 0x01, 0x01];
        await Eventually.WaitUntil(() => fake.ReceivedContains(requestStart));
        Assert.Equal(!secure, fake.ReceivedContains(MarkerBytes));
        await Assert.ThrowsAsync<RpcException>(() => call);
    }

    [Fact]
    public void Keys_round_trip_through_Z85_text_and_certificate_files_without_showing_the_secret()
    {
        // RFC 32's test vector.
        Assert.Equal("HelloWorld", Z85.Encode([0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B]));

        RpcKeyPair pair = RpcKeyPair.Generate();
        string secret = pair.ExportSecretKey();
        Assert.Equal(40, secret.Length);
        Assert.Equal(pair.PublicKey, RpcKeyPair.FromSecretKey(secret).PublicKey);
        Assert.Equal(pair.PublicKey, RpcPublicKey.Parse(pair.PublicKey.ToString()));
        Assert.DoesNotContain(secret, pair.ToString());
        Assert.DoesNotContain(secret, new RpcClientSecurity(pair, ServerKey.PublicKey).ClientKey.ToString());

        string directory = Directory.CreateTempSubdirectory("typedzmq-keys").FullName;
        try
        {
            string secretFile = Path.Combine(directory, "client.key_secret");
            string publicFile = Path.Combine(directory, "client.key");
            pair.Save(secretFile, "client");
            pair.PublicKey.Save(publicFile, "client");
            Assert.Equal(pair.PublicKey, RpcKeyPair.Load(secretFile).PublicKey);
            Assert.Equal(secret, RpcKeyPair.Load(secretFile).ExportSecretKey());
            Assert.Equal(pair.PublicKey, RpcPublicKey.Load(publicFile));
            Assert.DoesNotContain("secret-key", File.ReadAllText(publicFile));
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(secretFile));
            }

            var publicAsPair = Assert.Throws<FormatException>(() => RpcKeyPair.Load(publicFile));
            Assert.Contains("public certificate", publicAsPair.Message);

            // A certificate whose public key is not its secret key's (NetMQ would accept it): refused at load.
            File.WriteAllText(secretFile, File.ReadAllText(secretFile).Replace(pair.PublicKey.ToString(), ServerKey.PublicKey.ToString()));
            var mismatch = Assert.Throws<ArgumentException>(() => RpcKeyPair.Load(secretFile));
            Assert.Contains("does not belong", mismatch.Message);
            Assert.DoesNotContain(secret, mismatch.Message);

            // Only the curve section holds keys: a name cannot smuggle one in, nor break a line.
            Assert.Throws<ArgumentException>(() => pair.PublicKey.Save(publicFile, "x\n    public-key = \"" + ServerKey.PublicKey + "\""));
            File.WriteAllText(publicFile, $"metadata\n    public-key = \"{ServerKey.PublicKey}\"\ncurve\n    public-key = \"{pair.PublicKey}\"\n");
            Assert.Equal(pair.PublicKey, RpcPublicKey.Load(publicFile));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }

        Assert.Throws<FormatException>(() => RpcPublicKey.Parse("not a key"));
        var swapped = Assert.Throws<ArgumentException>(() => RpcKeyPair.FromKeys(secret, pair.PublicKey.ToString()));
        Assert.DoesNotContain(secret, swapped.Message);
        Assert.Contains("swapped", swapped.Message);
        var badSecret = Assert.Throws<FormatException>(() => RpcKeyPair.FromSecretKey(secret[..39] + "~"));
        Assert.DoesNotContain(secret[..39], badSecret.Message);
    }

    [Fact]
    public void Misconfigured_keys_fail_at_construction_never_silently_open()
    {
        // All zeros is a point of low order: a "shared secret" with it is zero, which anyone can compute.
        RpcPublicKey lowOrder = RpcPublicKey.FromBytes(new byte[32]);
        Assert.Throws<ArgumentException>(() => new RpcServerSecurity(ServerKey).AllowClient(lowOrder, "nobody"));
        var client = Assert.Throws<ArgumentException>(() => new RpcClient(new RpcClientOptions
        {
            Endpoint = "inproc://typedzmq-never-bound",
            Security = new RpcClientSecurity(Alice, lowOrder),
        }));
        Assert.Contains("low order", client.Message);
    }

    [Fact]
    public void The_reply_cache_never_answers_one_key_with_the_reply_to_another_key()
    {
        // Request ids cross the wire in the clear, so another allowed client could send the same id on purpose.
        using TestServer server = TestServer.Start(Transport.Inproc, new RpcServerOptions
        {
            Endpoint = "set by TestServer",
            Kind = RpcServerKind.Concurrent,
            ReplyCacheSize = 100,
            Security = ServerSecurity(),
        });
        using var alice = new ClientSealer(new RpcClientSecurity(Alice, ServerKey.PublicKey));
        using var bob = new ClientSealer(new RpcClientSecurity(Bob, ServerKey.PublicKey));
        using var peer = new RawPeer(server.Endpoint);

        Assert.Equal(42, OpenInt32(alice, peer.Exchange(Seal(alice, 500, Message(Header(1, 500, ServiceId, AddId), Int32s(20, 22)))).Single()));
        Assert.Equal(2, OpenInt32(bob, peer.Exchange(Seal(bob, 500, Message(Header(1, 500, ServiceId, AddId), Int32s(1, 1)))).Single()));
        Assert.Equal(2, server.Implementation.Adds);

        // Alice's own retry of request 500 is still answered from the cache, not run again.
        Assert.Equal(42, OpenInt32(alice, peer.Exchange(Seal(alice, 500, Message(Header(1, 500, ServiceId, AddId), Int32s(20, 22)))).Single()));
        Assert.Equal(2, server.Implementation.Adds);
    }

    private static (RpcStatus Status, string Message) OpenError(ClientSealer sealer, byte[] frame)
    {
        Assert.Equal(HeaderParseResult.Ok, RpcHeader.TryParse(frame, out RpcHeader outer, out _));
        Assert.Equal(MessageKind.SealedReply, outer.Kind);
        Assert.Null(sealer.Open(frame, outer, out RpcHeader reply, out ReadOnlySpan<byte> payload));
        Assert.Equal(MessageKind.Error, reply.Kind);
        Assert.True(PayloadCodec.TryReadError(payload, out _, out string? message, out _));
        return (reply.Status, message!);
    }

    private static int OpenInt32(ClientSealer sealer, byte[] frame)
    {
        Assert.Equal(HeaderParseResult.Ok, RpcHeader.TryParse(frame, out RpcHeader outer, out _));
        Assert.Equal(MessageKind.SealedReply, outer.Kind);
        Assert.Null(sealer.Open(frame, outer, out RpcHeader reply, out ReadOnlySpan<byte> payload));
        Assert.Equal(MessageKind.Reply, reply.Kind);
        return BitConverter.ToInt32(payload);
    }

    [Theory]
    [InlineData(RpcServerKind.Reply)]
    [InlineData(RpcServerKind.Concurrent)]
    public void An_allocation_bomb_a_2_pow_31_element_collection_in_a_few_bytes_allocates_nothing_and_the_server_keeps_serving(RpcServerKind kind)
    {
        using TestServer server = TestServer.Start(Transport.Inproc, kind);
        using var peer = new RawPeer(server.Endpoint);
        uint histogram = Fnv1a("Histogram(System.String[])");
        long before = GC.GetTotalAllocatedBytes(precise: true);

        for (int i = 0; i < 100; i++)
        {
            // string[] of int.MaxValue elements (16 GiB of references alone), then eight bytes that pretend to be the first.
            byte[] request = Message(Header(1, (ulong)(1000 + i), ServiceId, histogram), [.. Int32s(int.MaxValue), .. Int32s(-1, -1)]);
            AssertRefused(peer.Exchange(request).Single(), RpcStatus.BadRequest, $"claims {int.MaxValue} elements");
        }

        // Everything this process allocated meanwhile, other tests included: far below even one such array.
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Assert.True(allocated < 256L * 1024 * 1024, $"{allocated} bytes allocated during 100 hostile requests");
        Assert.Equal(5, server.Proxy().Add(2, 3));
    }

    [Fact]
    public async Task One_connection_cannot_take_more_than_its_share_of_a_concurrent_server()
    {
        using TestServer server = TestServer.Start(Transport.Inproc, new RpcServerOptions
        {
            Endpoint = "set by TestServer",
            Kind = RpcServerKind.Concurrent,
            MaxCallsPerPeer = 2,
            StopTimeout = TimeSpan.Zero,
        });
        IShapes greedy = server.Proxy(channel: RpcChannelKind.Multiplexed);
        IShapes other = server.Proxy(channel: RpcChannelKind.Multiplexed);
        Task<string>[] running = [greedy.SlowAsync(30_000, CancellationToken.None), greedy.SlowAsync(30_000, CancellationToken.None)];
        await Eventually.WaitUntil(() => server.Implementation.SlowRunning == 2);

        var refused = await Assert.ThrowsAsync<RpcException>(() => greedy.AddAsync(1, 2));
        Assert.Equal(RpcStatus.ResourceExhausted, refused.Status);
        Assert.Contains("MaxCallsPerPeer", refused.Message);
        Assert.Equal(3, await other.AddAsync(1, 2));
        Assert.All(running, call => Assert.False(call.IsCompleted));
    }

    private static RpcServerSecurity ServerSecurity() =>
        new RpcServerSecurity(ServerKey).AllowClient(Alice.PublicKey, "alice").AllowClient(Bob.PublicKey, "bob");

    private static TestServer StartSecure(RpcServerKind kind, Transport transport = Transport.Inproc, RpcServerSecurity? security = null) =>
        TestServer.Start(transport, new RpcServerOptions { Endpoint = "set by TestServer", Kind = kind, Security = security ?? ServerSecurity() });

    private static RpcClient SecureClient(string endpoint, RpcKeyPair key, RpcChannelKind channel, TimeSpan? timeout = null) =>
        new(new RpcClientOptions
        {
            Endpoint = endpoint,
            Channel = channel,
            Timeout = timeout ?? TimeSpan.FromSeconds(10),
            Security = new RpcClientSecurity(key, ServerKey.PublicKey),
        });

    private static byte[] Seal(ClientSealer sealer, ulong requestId, byte[] inner)
    {
        PayloadBuffer plain = sealer.BeginPlain();
        inner.CopyTo(plain.GetSpan(inner.Length));
        plain.Advance(inner.Length);
        var frame = new byte[ClientSealer.SealedSize(inner.Length)];
        sealer.Seal(requestId, cancel: false, frame);
        return frame;
    }

    private static void AssertRefused(byte[] answer, RpcStatus status, string because)
    {
        ParsedHeader header = ParseHeader(answer);
        Assert.Equal(3, header.Kind);
        Assert.Equal(status, header.Status);
        Assert.Contains(because, ReadError(answer).Message);
    }

    private sealed class OnlyAliceAdds : RpcServerInterceptor
    {
        public override ValueTask InterceptAsync(RpcCallContext context, RpcServerContinuation next) =>
            context.MethodName.StartsWith("Add", StringComparison.Ordinal) && context.Peer.Identity != "alice"
                ? throw new RpcException(RpcStatus.PermissionDenied, $"{context.Peer.Identity} may not call {context.MethodName}.")
                : next(context);
    }
}
