using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TypedZmq.Diagnostics;
using TypedZmq.Internal;
using TypedZmq.Server;

namespace TypedZmq;

/// <summary>
/// Hosts one or more TypedZmq services and answers every request: one at a time on a ZeroMQ REP socket
/// (<see cref="RpcServerKind.Reply"/>, the default), or many at once on a ROUTER socket
/// (<see cref="RpcServerKind.Concurrent"/>).
/// </summary>
/// <remarks>
/// <para>
/// Every request gets exactly one reply: the result; <see cref="RpcStatus.RemoteError"/> when the implementation
/// throws; <see cref="RpcStatus.Unimplemented"/> for an unknown service or method; <see cref="RpcStatus.BadRequest"/>
/// or <see cref="RpcStatus.UnsupportedVersion"/> for frames it cannot parse, for example a plain ZeroMQ client
/// sending <c>Hello</c>. Bad input never stops the server.
/// </para>
/// <para>
/// The socket is owned by one background thread, on which synchronous implementations (and the synchronous part of
/// asynchronous ones) run, so keep them short: blocking work belongs in an asynchronous method. Asynchronous
/// implementations may complete on any thread; their reply is handed back to the socket's thread.
/// </para>
/// <para>
/// <see cref="Stop"/> is graceful: new requests get <see cref="RpcStatus.Unavailable"/>, calls in flight get up to
/// <see cref="RpcServerOptions.StopTimeout"/> to finish, then the rest are cancelled and the socket closes.
/// </para>
/// </remarks>
/// <example>
/// <code>
/// using var server = new RpcServer("tcp://*:5555");
/// server.AddService&lt;IGreeter&gt;(new Greeter());
/// await server.RunAsync(cancellationToken);
/// </code>
/// </example>
public sealed class RpcServer : IDisposable
{
    private static readonly TimeSpan CancelledReplyGrace = TimeSpan.FromSeconds(1);

    private readonly Dictionary<uint, RpcServiceDispatcher> _services = new();
    private readonly object _stateLock = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ILogger _logger;
    private RequestHandler? _handler;
    private IServerLoop? _loop;
    private State _state;

    /// <summary>Creates a server that will listen on <paramref name="endpoint"/> once started.</summary>
    /// <param name="endpoint">For example <c>tcp://*:5555</c> or <c>inproc://greeter</c>.</param>
    public RpcServer(string endpoint)
        : this(new RpcServerOptions { Endpoint = endpoint })
    {
    }

    /// <summary>Creates a server with explicit options.</summary>
    /// <param name="options">The endpoint and limits.</param>
    public RpcServer(RpcServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.Endpoint))
        {
            throw new ArgumentException("An endpoint such as tcp://*:5555 is required.", nameof(options));
        }

        Options = options;
        _logger = options.LoggerFactory?.CreateLogger(Log.ServerCategory) ?? NullLogger.Instance;
    }

    private enum State
    {
        Created,
        Running,
        Stopped,
    }

    /// <summary>The options this server was created with.</summary>
    public RpcServerOptions Options { get; }

    /// <summary>
    /// The endpoint the server actually listens on, once started; with a port of <c>0</c> or <c>*</c> this names the
    /// port that was picked (for example <c>tcp://127.0.0.1:49731</c>). <see langword="null"/> before
    /// <see cref="Start"/>.
    /// </summary>
    public string? BoundEndpoint { get; private set; }

    /// <summary>Client connections of a concurrent server that ended since it started (for tests).</summary>
    internal int ConnectionsLost => (_loop as RouterLoop)?.ConnectionsLost ?? 0;

    /// <summary>Calls read and not yet answered (for tests).</summary>
    internal int InFlight => _handler?.InFlight ?? 0;

    /// <summary>Streams open now (for tests and diagnostics).</summary>
    internal int OpenStreams => _handler?.OpenStreams ?? 0;

    /// <summary>Requests waiting in a concurrent server's queue right now (for tests).</summary>
    internal int QueuedRequests => (_loop as RouterLoop)?.QueuedCount ?? 0;

    /// <summary>Hosts <paramref name="implementation"/> as the service <typeparamref name="TService"/>.</summary>
    /// <typeparam name="TService">An interface marked with <see cref="RpcServiceAttribute"/>.</typeparam>
    /// <param name="implementation">The object that serves the calls.</param>
    /// <returns>This server, for chaining.</returns>
    /// <exception cref="InvalidOperationException">
    /// The server was already started, no dispatcher was generated for <typeparamref name="TService"/>, or another
    /// hosted service has the same service id.
    /// </exception>
    public RpcServer AddService<TService>(TService implementation)
        where TService : class
    {
        ArgumentNullException.ThrowIfNull(implementation);
        return Add(RpcServiceRegistry.GetDispatcherFactory<TService>()(implementation));
    }

    /// <summary>
    /// Hosts the service <typeparamref name="TService"/> with an implementation made for each call by
    /// <paramref name="factory"/>, which sees the call's context (server interceptors run first, so one of them can
    /// open a scope that the factory resolves from: the hosting package does this for DI scopes).
    /// </summary>
    /// <typeparam name="TService">An interface marked with <see cref="RpcServiceAttribute"/>.</typeparam>
    /// <param name="factory">Makes the implementation that serves one call; called on the call's flow, once per call.</param>
    /// <returns>This server, for chaining.</returns>
    /// <exception cref="InvalidOperationException">
    /// The server was already started, no dispatcher was generated for <typeparamref name="TService"/>, or another
    /// hosted service has the same service id.
    /// </exception>
    public RpcServer AddService<TService>(Func<RpcCallContext, TService> factory)
        where TService : class
    {
        ArgumentNullException.ThrowIfNull(factory);
        return Add(new PerCallDispatcher<TService>(factory, RpcServiceRegistry.GetDispatcherFactory<TService>()));
    }

    private RpcServer Add(RpcServiceDispatcher dispatcher)
    {
        lock (_stateLock)
        {
            if (_state != State.Created)
            {
                throw new InvalidOperationException("Add every service before calling Start or RunAsync.");
            }

            if (_services.TryGetValue(dispatcher.ServiceId, out RpcServiceDispatcher? existing))
            {
                throw new InvalidOperationException(
                    existing.ServiceName == dispatcher.ServiceName
                        ? $"The service {dispatcher.ServiceName} is already hosted by this server."
                        : $"The services {existing.ServiceName} and {dispatcher.ServiceName} have the same service id " +
                          $"0x{dispatcher.ServiceId:x8}. Give one of them another name with [RpcService(\"name\")].");
            }

            _services.Add(dispatcher.ServiceId, dispatcher);
        }

        return this;
    }

    /// <summary>
    /// Binds the endpoint and starts serving on a background thread. Returns once the server accepts requests.
    /// </summary>
    /// <exception cref="InvalidOperationException">The server was started before, or the endpoint cannot be bound (for example the port is in use).</exception>
    /// <exception cref="ArgumentException">The endpoint is not of the form <c>transport://address</c>.</exception>
    public void Start()
    {
        lock (_stateLock)
        {
            if (_state != State.Created)
            {
                throw new InvalidOperationException(
                    _state == State.Running ? "The server is already running." : "A stopped server cannot be restarted; create a new RpcServer.");
            }

            var handler = new RequestHandler(_services, Options, _stopping.Token);
            IServerLoop? loop = null;
            try
            {
                loop = Options.Kind == RpcServerKind.Concurrent
                    ? new RouterLoop(Options, handler)
                    : new ReplyLoop(Options, handler);
                handler.Bound(loop.BoundEndpoint); // before the first request can arrive
                loop.Start();
            }
            catch
            {
                loop?.Dispose(); // the socket is bound: release the endpoint
                handler.Dispose(); // its stream timer and keys
                throw;
            }

            _handler = handler;
            _loop = loop;
            BoundEndpoint = loop.BoundEndpoint;
            _state = State.Running;
            if (_logger.IsEnabled(LogLevel.Information))
            {
#pragma warning disable CA1873 // the list of services is only built when the level is enabled, just above
                Log.ServerStarted(_logger, loop.BoundEndpoint, Options.Kind, Options.Security is not null, handler.DescribeServices());
#pragma warning restore CA1873
            }
        }
    }

    /// <summary>Starts the server (if it is not running yet) and serves until <paramref name="cancellationToken"/> is cancelled or the server is stopped.</summary>
    /// <param name="cancellationToken">Stops the server when cancelled.</param>
    /// <returns>A task that completes once the server has stopped.</returns>
    public async Task RunAsync(CancellationToken cancellationToken = default)
    {
        lock (_stateLock)
        {
            if (_state == State.Created)
            {
                Start();
            }
        }

        using (cancellationToken.Register(static state => ((RpcServer)state!).Stop(), this))
        {
            await _stopped.Task.ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Stops serving and closes the socket, gracefully: new requests are refused with
    /// <see cref="RpcStatus.Unavailable"/>, calls in flight get up to <see cref="RpcServerOptions.StopTimeout"/> to
    /// finish, then implementations that take a <see cref="CancellationToken"/> see it cancelled and the socket closes.
    /// A synchronous implementation that is running is waited for.
    /// </summary>
    public void Stop() => StopCore(CancellationToken.None);

    /// <summary>
    /// Stops the server as <see cref="Stop"/> does, on a thread-pool thread; when <paramref name="cancellationToken"/>
    /// fires (a host's shutdown timeout, for example) it stops waiting for calls in flight, cancels them and closes.
    /// </summary>
    /// <param name="cancellationToken">Ends the graceful part of the stop early.</param>
    /// <returns>A task that completes once the server has stopped.</returns>
    public Task StopAsync(CancellationToken cancellationToken = default) =>
        Task.Run(() => StopCore(cancellationToken), CancellationToken.None);

    private void StopCore(CancellationToken hurry)
    {
        bool wasRunning;
        bool stoppedElsewhere;
        lock (_stateLock)
        {
            stoppedElsewhere = _state == State.Stopped;
            wasRunning = _state == State.Running;
            _state = State.Stopped;
        }

        if (stoppedElsewhere)
        {
            // Another thread is stopping (or has stopped) the server: return once it has, so that Dispose never
            // pulls the cancellation source from under a stop still draining.
            _stopped.Task.Wait(CancellationToken.None);
            return;
        }

        if (wasRunning)
        {
            // Refuse new work (and what waits in the queue), then let the calls in flight finish, within bounds.
            _handler!.StopAccepting();
            _loop!.Wake();
            WaitForCallsInFlight(Options.StopTimeout, hurry);
        }

        _stopping.Cancel();
        if (wasRunning)
        {
            // Implementations that honour the token finish now; give their "cancelled" replies a moment to leave.
            WaitForCallsInFlight(CancelledReplyGrace, CancellationToken.None);
            int unfinished = _handler!.InFlight;
            if (_loop!.Close(Options.StopTimeout + TimeSpan.FromSeconds(1)))
            {
                _handler.Dispose(); // the loop thread is gone: nothing seals any more, the shared keys can be wiped
            }

            Log.ServerStopped(_logger, BoundEndpoint ?? Options.Endpoint, unfinished);
        }

        _stopped.TrySetResult();
    }

    /// <summary>Stops the server (see <see cref="Stop"/>).</summary>
    public void Dispose()
    {
        Stop();
        _stopping.Dispose();
    }

    private void WaitForCallsInFlight(TimeSpan atMost, CancellationToken hurry)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (_handler!.InFlight > 0 && watch.Elapsed < atMost && !hurry.IsCancellationRequested)
        {
            Thread.Sleep(5);
        }
    }
}
