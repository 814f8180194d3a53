using HelloWorld.Contracts;
using Microsoft.Extensions.Logging;
using TypedZmq;

namespace HostedGreeter;

/// <summary>The greeter, made by DI for each call (its logger injected) and disposed after it.</summary>
public sealed partial class LoggingGreeter(ILogger<LoggingGreeter> logger) : IGreeter
{
    /// <inheritdoc />
    public string SayHello(string greeting)
    {
        Greeted(logger, greeting, RpcCallContext.Current?.Peer.ToString() ?? "?");
        return "World";
    }

    /// <inheritdoc />
    public Task<Reply> SayHelloAsync(Request request, CancellationToken cancellationToken = default) =>
        Task.FromResult(new Reply(Enumerable.Range(1, request.Times).Select(i => $"Hello, {request.Name} ({i})").ToArray()));

    [LoggerMessage(Level = LogLevel.Information, Message = "Received {Greeting} from {Peer}")]
    private static partial void Greeted(ILogger logger, string greeting, string peer);
}
