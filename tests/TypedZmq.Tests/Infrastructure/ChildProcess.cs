using System.Diagnostics;
using System.Text;
using System.Threading.Channels;

namespace TypedZmq.Tests.Infrastructure;

/// <summary>
/// A process a test starts (a server to kill, a Python peer, a fuzzer that may crash): output captured, a bounded wait
/// for it to be ready or done, and killed with its children on dispose, so no test leaves one behind.
/// </summary>
public sealed class ChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly StringBuilder _errors = new();
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();

    private ChildProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                _lines.Writer.TryComplete();
                return;
            }

            lock (_output)
            {
                _output.AppendLine(e.Data);
            }

            _lines.Writer.TryWrite(e.Data);
        };
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (_errors)
                {
                    _errors.AppendLine(e.Data);
                }
            }
        };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public string Errors
    {
        get
        {
            lock (_errors)
            {
                return _errors.ToString();
            }
        }
    }

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Starts one of the test projects' programs that was copied next to the tests (<c>name.dll</c>).</summary>
    public static ChildProcess StartDotnet(string assemblyName, params string[] arguments) =>
        Start("dotnet", [Path.Combine(AppContext.BaseDirectory, assemblyName + ".dll"), .. arguments]);

    public static ChildProcess Start(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program, arguments)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        return new ChildProcess(Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start"));
    }

    /// <summary>Runs a program to its end within <paramref name="timeout"/> and returns its exit code and output.</summary>
    public static async Task<ChildProcess> RunAsync(TimeSpan timeout, string program, params string[] arguments)
    {
        ChildProcess child = Start(program, arguments);
        await child.WaitForExitAsync(timeout);
        return child;
    }

    /// <summary>Waits for a line of output that starts with <paramref name="prefix"/>, and returns it.</summary>
    public async Task<string> WaitForLineAsync(string prefix, TimeSpan timeout)
    {
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cancel.CancelAfter(timeout);
        try
        {
            await foreach (string line in _lines.Reader.ReadAllAsync(cancel.Token))
            {
                if (line.StartsWith(prefix, StringComparison.Ordinal))
                {
                    return line;
                }
            }
        }
        catch (OperationCanceledException) when (!TestContext.Current.CancellationToken.IsCancellationRequested)
        {
        }

        Assert.Fail($"no line starting with '{prefix}' within {timeout}; output:\n{Output}\nerrors:\n{Errors}");
        return "";
    }

    /// <summary>Waits for the process to end; kills it and fails the test when it takes longer than <paramref name="timeout"/>.</summary>
    public async Task WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cancel.CancelAfter(timeout);
        try
        {
            await _process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException) when (!TestContext.Current.CancellationToken.IsCancellationRequested)
        {
            Kill();
            Assert.Fail($"the process did not end within {timeout}; output:\n{Output}\nerrors:\n{Errors}");
        }

        _process.WaitForExit(); // flushes the redirected output
    }

    public void CloseInput() => _process.StandardInput.Close();

    public void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }
}
