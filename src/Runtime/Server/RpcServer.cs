using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using NetMQ;
using NetMQ.Sockets;
using TypedZmq.Internal;
using TypedZmq.Protocol;

namespace TypedZmq;

/// <summary>
/// Hosts one or more TypedZmq services on a ZeroMQ REP socket and answers every request, one at a time, in order.
/// </summary>
/// <remarks>
/// <para>
/// Every request gets exactly one reply: the result; <see cref="RpcStatus.RemoteError"/> when the implementation
/// throws; <see cref="RpcStatus.Unimplemented"/> for an unknown service or method; <see cref="RpcStatus.BadRequest"/>
/// or <see cref="RpcStatus.UnsupportedVersion"/> for frames it cannot parse, for example a plain ZeroMQ client
/// sending <c>Hello</c>. Bad input never stops the server.
/// </para>
/// <para>
/// The socket is owned by one background thread, on which synchronous implementations run. Asynchronous
/// implementations may complete on any thread; their reply is handed back to the socket's thread.
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
    private readonly Dictionary<uint, RpcServiceDispatcher> _services = new();
    private readonly object _stateLock = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly RpcServerCall _call = new();
    private readonly PayloadBuffer _errorBuffer = new();
    private ResponseSocket? _socket;
    private NetMQQueue<RpcServerCall>? _completions;
    private NetMQPoller? _poller;
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
        RpcServiceDispatcher dispatcher = RpcServiceRegistry.GetDispatcherFactory<TService>()(implementation);
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
    public void Start()
    {
        lock (_stateLock)
        {
            if (_state != State.Created)
            {
                throw new InvalidOperationException(
                    _state == State.Running ? "The server is already running." : "A stopped server cannot be restarted; create a new RpcServer.");
            }

            var socket = new ResponseSocket();
            try
            {
                socket.Options.MaxMsgSize = Options.MaxMessageSize;

                // Replies still queued when the server stops get a short, bounded chance to leave.
                socket.Options.Linger = TimeSpan.FromMilliseconds(200);
                BoundEndpoint = Bind(socket, Options.Endpoint);
            }
            catch
            {
                socket.Dispose();
                throw;
            }

            _socket = socket;
            _completions = new NetMQQueue<RpcServerCall>(capacity: 16);
            _poller = new NetMQPoller { _socket, _completions };
            _socket.ReceiveReady += OnRequestReady;
            _completions.ReceiveReady += OnCompletionReady;
            _state = State.Running;
            _poller.RunAsync("TypedZmq.RpcServer", isBackgroundThread: true);
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
    /// Stops serving and closes the socket. Implementations that take a <see cref="CancellationToken"/> see it cancelled;
    /// a synchronous implementation that is running is waited for.
    /// </summary>
    public void Stop()
    {
        NetMQPoller? poller;
        lock (_stateLock)
        {
            if (_state == State.Stopped)
            {
                return;
            }

            bool wasRunning = _state == State.Running;
            _state = State.Stopped;
            poller = wasRunning ? _poller : null;
        }

        _stopping.Cancel();
        if (poller is not null)
        {
            poller.Stop();
            poller.Dispose();
            _socket?.Dispose();
            _completions?.Dispose();
        }

        _stopped.TrySetResult();
    }

    /// <summary>Stops the server (see <see cref="Stop"/>).</summary>
    public void Dispose()
    {
        Stop();
        _stopping.Dispose();
    }

    private static string Bind(ResponseSocket socket, string endpoint)
    {
        try
        {
            if (endpoint.StartsWith("tcp://", StringComparison.OrdinalIgnoreCase) &&
                (endpoint.EndsWith(":0", StringComparison.Ordinal) || endpoint.EndsWith(":*", StringComparison.Ordinal)))
            {
                string address = endpoint.Substring(0, endpoint.Length - 2);
                int port = socket.BindRandomPort(address);
                return address + ":" + port.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            socket.Bind(endpoint);
            return socket.Options.LastEndpoint ?? endpoint;
        }
        catch (Exception ex) when (ex is NetMQException or ArgumentException or System.Net.Sockets.SocketException)
        {
            throw new InvalidOperationException(
                $"Cannot listen on '{endpoint}': {ex.Message}. If the port is in use, stop the other process or choose another " +
                "endpoint; otherwise use the form tcp://*:5555, tcp://127.0.0.1:0 or inproc://name.",
                ex);
        }
    }

    // Runs on the poller thread: the only thread that touches the socket.
    private void OnRequestReady(object? sender, NetMQSocketEventArgs e)
    {
        var headerMsg = default(Msg);
        var payloadMsg = default(Msg);
        headerMsg.InitEmpty();
        payloadMsg.InitEmpty();
        try
        {
            if (!_socket!.TryReceive(ref headerMsg, TimeSpan.Zero))
            {
                return;
            }

            int frames = 1;
            if (headerMsg.HasMore && _socket.TryReceive(ref payloadMsg, TimeSpan.FromSeconds(1)))
            {
                frames = 2 + (payloadMsg.HasMore ? Frames.DrainRemainingFrames(_socket, hasMore: true) : 0);
            }

            Serve(ref headerMsg, ref payloadMsg, frames);
        }
        finally
        {
            headerMsg.Close();
            payloadMsg.Close();
        }
    }

    private void Serve(ref Msg headerMsg, ref Msg payloadMsg, int frames)
    {
        ReadOnlySpan<byte> headerBytes = headerMsg.Slice();
        HeaderParseResult parsed = RpcHeader.TryParse(headerBytes, out RpcHeader header, out string? error);
        if (parsed != HeaderParseResult.Ok)
        {
            ulong requestId = parsed == HeaderParseResult.NotTypedZmq ? 0 : RpcHeader.PeekRequestId(headerBytes);
            RpcStatus status = parsed == HeaderParseResult.UnsupportedVersion ? RpcStatus.UnsupportedVersion : RpcStatus.BadRequest;
            SendError(requestId, 0, 0, status, null, "TypedZmq could not read this request: " + error + ".", null);
            return;
        }

        if (header.Kind != MessageKind.Request)
        {
            SendError(header.RequestId, header.ServiceId, header.MethodId, RpcStatus.BadRequest, null,
                $"expected a request (message kind 1) but got kind {(byte)header.Kind}.", null);
            return;
        }

        if (frames != 2)
        {
            SendError(header.RequestId, header.ServiceId, header.MethodId, RpcStatus.BadRequest, null,
                $"a request is exactly two frames (header, payload) but this one has {frames}.", null);
            return;
        }

        if (!_services.TryGetValue(header.ServiceId, out RpcServiceDispatcher? dispatcher))
        {
            SendError(header.RequestId, header.ServiceId, header.MethodId, RpcStatus.Unimplemented, null,
                $"this server hosts no service with id 0x{header.ServiceId:x8} (it hosts {DescribeServices()}). " +
                "Check that the client calls the right endpoint and that the server registers the service with AddService.", null);
            return;
        }

        if (header.DeadlineUnixMs != 0 && DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() > header.DeadlineUnixMs)
        {
            SendError(header.RequestId, header.ServiceId, header.MethodId, RpcStatus.DeadlineExceeded, null,
                "the request's deadline passed before the server could run it; it was not run.", null);
            return;
        }

        RpcServerCall call = _call;
        call.Begin(header.RequestId, header.ServiceId, header.MethodId, dispatcher.ServiceName,
            payloadMsg.SliceAsMemory(), _stopping.Token);

        ValueTask pending;
        try
        {
            pending = dispatcher.DispatchAsync(call);
        }
        catch (Exception ex)
        {
            call.ReleaseArguments();
            SendFailure(call, ex);
            return;
        }

        // Arguments are decoded before the implementation runs, so the request frame can be closed now.
        call.ReleaseArguments();
        if (pending.IsCompleted)
        {
            try
            {
                pending.GetAwaiter().GetResult();
            }
            catch (Exception ex)
            {
                SendFailure(call, ex);
                return;
            }

            SendReply(call);
            return;
        }

        // A REP socket takes no new request until this one is answered, so nothing else is read meanwhile.
        _ = CompleteLaterAsync(pending, call, _completions!);
    }

    private static async Task CompleteLaterAsync(ValueTask pending, RpcServerCall call, NetMQQueue<RpcServerCall> completions)
    {
        try
        {
            await pending.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            call.Failure = ex;
        }

        try
        {
            completions.Enqueue(call);
        }
#pragma warning disable CA1031 // Nobody awaits this task: an exception here would only be lost, so say why it is ignored.
        catch (Exception) when (completions.IsDisposed)
#pragma warning restore CA1031
        {
            // The server stopped while the implementation ran: there is no socket left to answer on.
        }
    }

    private void OnCompletionReady(object? sender, NetMQQueueEventArgs<RpcServerCall> e)
    {
        while (e.Queue.TryDequeue(out RpcServerCall? call, TimeSpan.Zero))
        {
            if (call.Failure is { } failure)
            {
                SendFailure(call, failure);
            }
            else
            {
                SendReply(call);
            }
        }
    }

    private void SendReply(RpcServerCall call)
    {
        var header = new RpcHeader(MessageKind.Reply, RpcStatus.Ok, call.RequestId, call.ServiceId, call.MethodId, 0);
        Frames.TrySend(_socket!, header, call.Result, TimeSpan.FromSeconds(1));
    }

    private void SendFailure(RpcServerCall call, Exception exception)
    {
        switch (exception)
        {
            case RpcException rpc:
                SendError(call.RequestId, call.ServiceId, call.MethodId, rpc.Status, rpc.RemoteExceptionType, rpc.Message,
                    Options.IncludeExceptionDetails ? rpc.ToString() : null);
                break;
            case OperationCanceledException when _stopping.IsCancellationRequested:
                SendError(call.RequestId, call.ServiceId, call.MethodId, RpcStatus.Cancelled, exception.GetType().FullName,
                    "the server is stopping and cancelled the call.", null);
                break;
            default:
                SendError(call.RequestId, call.ServiceId, call.MethodId, RpcStatus.RemoteError, exception.GetType().FullName,
                    exception.Message, Options.IncludeExceptionDetails ? exception.ToString() : null);
                break;
        }
    }

    private void SendError(ulong requestId, uint serviceId, uint methodId, RpcStatus status, string? type, string message, string? detail)
    {
        _errorBuffer.Reset();
        PayloadCodec.WriteError(_errorBuffer, type, message, detail);
        var header = new RpcHeader(MessageKind.Error, status, requestId, serviceId, methodId, 0);
        Frames.TrySend(_socket!, header, _errorBuffer.WrittenSpan, TimeSpan.FromSeconds(1));
    }

    private string DescribeServices()
    {
        if (_services.Count == 0)
        {
            return "no services";
        }

        var names = new List<string>(_services.Count);
        foreach (RpcServiceDispatcher service in _services.Values)
        {
            names.Add($"{service.ServiceName} (0x{service.ServiceId:x8})");
        }

        return string.Join(", ", names);
    }
}
