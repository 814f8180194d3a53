using HelloWorld.Contracts;

namespace HelloWorld.Server;

/// <summary>The service implementation: plain C#, no TypedZmq types in sight.</summary>
public sealed class Greeter : IGreeter
{
    private readonly TextWriter _log;

    /// <summary>Creates a greeter that logs each greeting to <paramref name="log"/>.</summary>
    /// <param name="log">Where to log, for example <see cref="Console.Out"/>.</param>
    public Greeter(TextWriter log) => _log = log;

    /// <inheritdoc />
    public string SayHello(string greeting)
    {
        _log.WriteLine($"Received {greeting}");
        return "World";
    }

    /// <inheritdoc />
    public async Task<Reply> SayHelloAsync(Request request, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(request.Times);
        await Task.Yield();
        var lines = new string[request.Times];
        for (int i = 0; i < lines.Length; i++)
        {
            lines[i] = $"Hello, {request.Name} ({i + 1})";
        }

        return new Reply(lines);
    }
}
