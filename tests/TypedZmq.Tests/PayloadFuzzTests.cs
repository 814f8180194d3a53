using TypedZmq.Tests.Infrastructure;

namespace TypedZmq.Tests;

/// <summary>
/// Runs tests/TypedZmq.PayloadFuzzer in a child process: hundreds of thousands of hostile payloads (boundary length
/// prefixes at every offset, interesting bytes at every offset, truncations, random mutations, crafted deep nesting) for
/// every argument shape the generator supports, through the generated dispatcher and the client's reply decoder, each
/// placed against an inaccessible page so that a read outside the message kills the process.
/// </summary>
public sealed class PayloadFuzzTests
{
    [Fact]
    public async Task Hostile_payloads_are_decoded_or_refused_and_never_read_outside_the_message()
    {
        // A fixed seed, so a failure reproduces: dotnet TypedZmq.PayloadFuzzer.dll 20261127 3
        using ChildProcess fuzzer = ChildProcess.StartDotnet("TypedZmq.PayloadFuzzer", "20261127", "3");
        await fuzzer.WaitForExitAsync(TimeSpan.FromMinutes(3));

        Assert.True(fuzzer.ExitCode == 0, $"the fuzzer exited with {fuzzer.ExitCode} (134 or 139: it crashed)\n{fuzzer.Output}\n{fuzzer.Errors}");
        Assert.Contains(" 0 failures", fuzzer.Output);
        TestContext.Current.SendDiagnosticMessage(fuzzer.Output);
    }
}
