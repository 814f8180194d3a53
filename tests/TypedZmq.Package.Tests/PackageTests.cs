using System.Diagnostics;
using System.IO.Compression;

namespace TypedZmq.Package.Tests;

/// <summary>
/// Packs TypedZmq into a temporary folder feed with a version no cache has seen, builds a fresh contracts / server /
/// client solution against the package alone, runs it, and cleans up, including that version in the NuGet cache.
/// </summary>
public sealed class PackageTests : IDisposable
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(5);

    private readonly string _root = Path.Combine(Path.GetTempPath(), "typedzmq-package-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly string _version = "0.0.0-packagetest." + Guid.NewGuid().ToString("N")[..12];

    public PackageTests() => Directory.CreateDirectory(_root);

    [Fact]
    public async Task The_package_alone_gives_a_consumer_a_working_typed_call()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        string feed = Path.Combine(_root, "feed");
        await Dotnet(RepositoryRoot(), ct, "pack", Path.Combine("src", "Runtime", "TypedZmq.csproj"),
            "-c", "Release", "-o", feed, $"-p:Version={_version}", "--disable-build-servers");

        await Dotnet(RepositoryRoot(), ct, "pack", Path.Combine("src", "Hosting", "TypedZmq.Hosting.csproj"),
            "-c", "Release", "-o", feed, $"-p:Version={_version}", "--disable-build-servers");

        string package = Path.Combine(feed, $"TypedZmq.{_version}.nupkg");
        AssertLayout(package);
        AssertHostingLayout(Path.Combine(feed, $"TypedZmq.Hosting.{_version}.nupkg"), _version);

        string app = Path.Combine(_root, "app");
        Write(app, "nuget.config", ConsumerProject.NuGetConfig(feed));
        Write(app, "Contracts/Contracts.csproj", ConsumerProject.ContractsProject(_version));
        Write(app, "Contracts/IGreeter.cs", ConsumerProject.Contracts);
        Write(app, "Server/Server.csproj", ConsumerProject.AppProject);
        Write(app, "Server/Program.cs", ConsumerProject.Server);
        Write(app, "Client/Client.csproj", ConsumerProject.AppProject);
        Write(app, "Client/Program.cs", ConsumerProject.Client);
        Write(app, "Hosted/Hosted.csproj", ConsumerProject.HostedProject(_version));
        Write(app, "Hosted/Program.cs", ConsumerProject.Hosted);

        // The contract files through the package (docs/versioning.md): accepting records every entry; shipped, they are
        // what the later builds are checked against (warnings are errors in this consumer).
        await Dotnet(app, ct, "build", "Contracts/Contracts.csproj", "-p:TypedZmqAcceptContract=true", "--disable-build-servers");
        string unshipped = Path.Combine(app, "Contracts", "TypedZmq.Contract.Unshipped.txt");
        string recorded = File.ReadAllText(unshipped);
        Assert.Contains("method Shop.Contracts.IGreeter.SayHello(System.String) | id=0x", recorded);
        Assert.Contains("type Shop.Contracts.Request | Object | String, Fixed<int>()", recorded);
        File.WriteAllText(Path.Combine(app, "Contracts", "TypedZmq.Contract.Shipped.txt"), recorded);
        File.WriteAllText(unshipped, "");

        await Dotnet(app, ct, "build", "Server/Server.csproj", "--disable-build-servers");
        await Dotnet(app, ct, "build", "Client/Client.csproj", "--disable-build-servers");
        await Dotnet(app, ct, "build", "Hosted/Hosted.csproj", "--disable-build-servers");
        Assert.Contains("hosted World", await Dotnet(app, ct, "Hosted/bin/Debug/net10.0/Hosted.dll"));

        // Renaming a shipped method breaks old clients: the build says so.
        Write(app, "Contracts/IGreeter.cs", ConsumerProject.Contracts.Replace("string SayHello(string greeting);", "string SayHi(string greeting);", StringComparison.Ordinal));
        string broken = await Dotnet(app, ct, expectSuccess: false, "build", "Contracts/Contracts.csproj", "--disable-build-servers");
        Assert.Contains("error TZMQ0020: Shipped contract entry 'method Shop.Contracts.IGreeter.SayHello(System.String)' is gone", broken);
        Write(app, "Contracts/IGreeter.cs", ConsumerProject.Contracts);

        using Process server = Start(app, "Server/bin/Debug/net10.0/Server.dll", "tcp://127.0.0.1:0");
        try
        {
            string? first = await server.StandardOutput.ReadLineAsync(ct).AsTask().WaitAsync(TimeSpan.FromSeconds(30), ct);
            Assert.True(first?.StartsWith("listening tcp://", StringComparison.Ordinal), $"server said: {first}");
            string endpoint = first!["listening ".Length..];

            string output = await Dotnet(app, ct, "Client/bin/Debug/net10.0/Client.dll", endpoint);

            Assert.Contains("reply World", output);
            Assert.Contains("lines 1:pkg,2:pkg", output);
        }
        finally
        {
            server.StandardInput.Close();
            if (!server.WaitForExit(TimeSpan.FromSeconds(10)))
            {
                server.Kill(entireProcessTree: true);
            }
        }
    }

    public void Dispose()
    {
        TryDelete(_root);

        // The consumer's restore cached this one-off version; leave no trace of it.
        string packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } custom
            ? custom
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        foreach (string id in new[] { "typedzmq", "typedzmq.hosting" })
        {
            string cached = Path.Combine(packages, id);
            TryDelete(Path.Combine(cached, _version));
            if (Directory.Exists(cached) && !Directory.EnumerateFileSystemEntries(cached).Any())
            {
                TryDelete(cached);
            }
        }
    }

    private static void AssertLayout(string package)
    {
        using ZipArchive zip = ZipFile.OpenRead(package);
        string[] entries = zip.Entries.Select(e => e.FullName).ToArray();
        Assert.Contains("analyzers/dotnet/cs/TypedZmq.Generator.dll", entries);
        Assert.Contains("README.md", entries);
        Assert.Contains("build/TypedZmq.targets", entries);
        Assert.Contains("buildTransitive/TypedZmq.targets", entries);
        foreach (string tfm in new[] { "net8.0", "net10.0" })
        {
            Assert.Contains($"lib/{tfm}/TypedZmq.dll", entries);
            Assert.Contains($"lib/{tfm}/TypedZmq.xml", entries);
        }

        // The generator must not leak into lib/ (it would become a runtime reference of every consumer).
        Assert.DoesNotContain(entries, e => e.StartsWith("lib/", StringComparison.Ordinal) && e.Contains("Generator", StringComparison.Ordinal));

        using var reader = new StreamReader(zip.GetEntry("TypedZmq.nuspec")!.Open());
        string nuspec = reader.ReadToEnd();
        Assert.Contains("<license type=\"expression\">MIT</license>", nuspec);
        Assert.Contains("<dependency id=\"NetMQ\"", nuspec);
        Assert.Contains("<dependency id=\"MemoryPack\" version=\"1.21.4\" include=\"All\" />", nuspec);
    }

    /// <summary>The hosting package: its own assembly only, depending on TypedZmq of the same version (not bundling it).</summary>
    private static void AssertHostingLayout(string package, string version)
    {
        using ZipArchive zip = ZipFile.OpenRead(package);
        string[] entries = zip.Entries.Select(e => e.FullName).ToArray();
        foreach (string tfm in new[] { "net8.0", "net10.0" })
        {
            Assert.Contains($"lib/{tfm}/TypedZmq.Hosting.dll", entries);
            Assert.DoesNotContain($"lib/{tfm}/TypedZmq.dll", entries);
        }

        Assert.DoesNotContain(entries, e => e.StartsWith("analyzers/", StringComparison.Ordinal));
        using var reader = new StreamReader(zip.GetEntry("TypedZmq.Hosting.nuspec")!.Open());
        string nuspec = reader.ReadToEnd();
        Assert.Contains($"<dependency id=\"TypedZmq\" version=\"{version}\"", nuspec);
        Assert.Contains("<dependency id=\"Microsoft.Extensions.Hosting.Abstractions\"", nuspec);
    }

    private static void Write(string root, string relative, string content)
    {
        string path = Path.Combine(root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
    }

    private static ProcessStartInfo DotnetStartInfo(string workingDirectory, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo("dotnet", arguments)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };

        // The outer test run's MSBuild settings must not steer the consumer's build.
        foreach (string key in start.Environment.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(key);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        return start;
    }

    private static Process Start(string workingDirectory, params string[] arguments) =>
        Process.Start(DotnetStartInfo(workingDirectory, arguments))!;

    private static Task<string> Dotnet(string workingDirectory, CancellationToken ct, params string[] arguments) =>
        Dotnet(workingDirectory, ct, expectSuccess: true, arguments);

    private static async Task<string> Dotnet(string workingDirectory, CancellationToken ct, bool expectSuccess, params string[] arguments)
    {
        using Process process = Start(workingDirectory, arguments);
        process.StandardInput.Close();
        Task<string> stdout = process.StandardOutput.ReadToEndAsync(ct);
        Task<string> stderr = process.StandardError.ReadToEndAsync(ct);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(CommandTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }

        string output = await stdout + await stderr;
        Assert.True((process.ExitCode == 0) == expectSuccess, $"dotnet {string.Join(' ', arguments)} exited with {process.ExitCode}:\n{Tail(output)}");
        return output;
    }

    private static string Tail(string text)
    {
        string[] lines = text.Split('\n');
        return string.Join('\n', lines.Skip(Math.Max(0, lines.Length - 40)));
    }

    private static void TryDelete(string directory)
    {
        try
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        catch (IOException)
        {
            // Best effort: a leftover temp folder is harmless and the OS cleans /tmp.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "TypedZmq.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("TypedZmq.sln not found above " + AppContext.BaseDirectory);
    }
}
