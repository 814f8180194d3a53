using NetMQ;
using NetMQ.Sockets;

namespace Broker;

/// <summary>
/// One stable address in front of any number of TypedZmq workers: clients connect to the front end (a ROUTER), workers
/// (servers with <c>RpcServerOptions.ConnectToEndpoint</c>) connect to the back end (a DEALER), and NetMQ's
/// <see cref="Proxy"/> moves every message between them on one poller thread. The broker reads no TypedZmq frame:
/// requests go to the workers in turn, replies back to the client that asked, secure mode passes through sealed.
/// </summary>
public sealed class Broker : IDisposable
{
    private readonly RouterSocket _frontend = new();
    private readonly DealerSocket _backend = new();
    private readonly NetMQPoller _poller;
    private readonly Proxy _proxy;

    /// <summary>Binds both ends; starts nothing yet.</summary>
    /// <param name="frontend">Where clients connect, for example <c>tcp://*:5555</c> (<c>:0</c> picks a free port).</param>
    /// <param name="backend">Where workers connect, for example <c>tcp://*:5556</c>.</param>
    public Broker(string frontend, string backend)
    {
        _frontend.Options.Linger = TimeSpan.Zero;
        _backend.Options.Linger = TimeSpan.Zero;
        try
        {
            FrontendEndpoint = Bind(_frontend, frontend);
            BackendEndpoint = Bind(_backend, backend);
        }
        catch
        {
            // An address in use (another broker, or this one's previous run not yet closed): release the other end too.
            _frontend.Dispose();
            _backend.Dispose();
            throw;
        }

        _poller = new NetMQPoller { _frontend, _backend };
        _proxy = new Proxy(_frontend, _backend, poller: _poller);
    }

    /// <summary>Where clients connect.</summary>
    public string FrontendEndpoint { get; }

    /// <summary>Where workers connect.</summary>
    public string BackendEndpoint { get; }

    /// <summary>Starts moving messages, on a background thread.</summary>
    public void Start()
    {
        _proxy.Start();
        _poller.RunAsync("Broker", isBackgroundThread: true);
    }

    /// <summary>Stops and closes both ends.</summary>
    public void Dispose()
    {
        if (_poller.IsRunning)
        {
            _poller.Stop();
        }

        _poller.Dispose();
        _frontend.Dispose();
        _backend.Dispose();
    }

    private static string Bind(NetMQSocket socket, string endpoint)
    {
        if (endpoint.StartsWith("tcp://", StringComparison.Ordinal) && endpoint.EndsWith(":0", StringComparison.Ordinal))
        {
            string address = endpoint[..^2];
            return address + ":" + socket.BindRandomPort(address);
        }

        socket.Bind(endpoint);
        return endpoint;
    }
}
