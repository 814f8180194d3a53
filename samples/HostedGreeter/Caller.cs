using HelloWorld.Contracts;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace HostedGreeter;

/// <summary>Calls the greeter through the injected proxy three times, then stops the application.</summary>
public sealed partial class Caller(IGreeter greeter, IHostApplicationLifetime lifetime, ILogger<Caller> logger) : BackgroundService
{
    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            for (int i = 0; i < 3; i++)
            {
                Replied(logger, await Task.Run(() => greeter.SayHello("Hello"), stoppingToken), i);
            }

            Reply reply = await greeter.SayHelloAsync(new Request("hosted TypedZmq", 2), stoppingToken);
            Lines(logger, string.Join(" / ", reply.Lines));
        }
        finally
        {
            lifetime.StopApplication();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Received {Reply} {Index}")]
    private static partial void Replied(ILogger logger, string reply, int index);

    [LoggerMessage(Level = LogLevel.Information, Message = "Received {Lines}")]
    private static partial void Lines(ILogger logger, string lines);
}
