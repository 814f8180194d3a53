using HelloWorld.Contracts;
using TypedZmq;

namespace HelloWorld.Client;

/// <summary>The ZeroMQ guide's hello world client, typed: sends "Hello" ten times and prints each reply.</summary>
public static class HelloClient
{
    /// <summary>Where the guide's client connects.</summary>
    public const string DefaultEndpoint = "tcp://localhost:5555";

    /// <summary>Runs the ten round trips, then one call with records.</summary>
    /// <param name="endpoint">The server to call.</param>
    /// <param name="output">Where to print.</param>
    /// <param name="cancellationToken">Stops between calls.</param>
    /// <returns>A task that completes after the last reply.</returns>
    public static Task RunAsync(string endpoint, TextWriter output, CancellationToken cancellationToken = default) =>
        RunAsync(new RpcClientOptions { Endpoint = endpoint }, output, cancellationToken);

    /// <summary>Runs the ten round trips, then one call with records, with any client options (secure mode, for one).</summary>
    /// <param name="options">The client's options.</param>
    /// <param name="output">Where to print.</param>
    /// <param name="cancellationToken">Stops between calls.</param>
    /// <returns>A task that completes after the last reply.</returns>
    public static async Task RunAsync(RpcClientOptions options, TextWriter output, CancellationToken cancellationToken = default)
    {
        using var client = new RpcClient(options);
        IGreeter greeter = client.CreateProxy<IGreeter>();

        for (int i = 0; i < 10; i++)
        {
            output.WriteLine($"Sending Hello {i}...");
            string reply = greeter.SayHello("Hello");
            output.WriteLine($"Received {reply} {i}");
            cancellationToken.ThrowIfCancellationRequested();
        }

        Reply lines = await greeter.SayHelloAsync(new Request("TypedZmq", 2), cancellationToken);
        foreach (string line in lines.Lines)
        {
            output.WriteLine(line);
        }
    }
}
