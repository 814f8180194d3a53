using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.CodeAnalysis;

namespace TypedZmq.Generator.Tests.Infrastructure;

/// <summary>
/// A small stand-in for Verify.SourceGenerators (whose core package does not restore here) that keeps its file
/// conventions, so moving to Verify later touches only this file:
/// <list type="bullet">
/// <item><c>{TestClass}.{TestMethod}#{HintName}.verified.cs</c> next to the test file holds the accepted output;</item>
/// <item>on a mismatch or a missing snapshot the actual output is written to <c>.received.cs</c> beside it and the
/// test fails with a diff; a passing run deletes any stale <c>.received.cs</c>;</item>
/// <item>set <c>TYPEDZMQ_ACCEPT_SNAPSHOTS=1</c> to accept the received output (never honoured when <c>CI=true</c>);</item>
/// <item>the generator's version is scrubbed (as Verify scrubs), so a version bump does not rewrite every snapshot.</item>
/// </list>
/// </summary>
public static class Snapshot
{
    public static void VerifyGenerated(GeneratorDriverRunResult result, [CallerFilePath] string testFile = "", [CallerMemberName] string testMethod = "")
    {
        GeneratedSourceResult[] sources = result.Results.SelectMany(r => r.GeneratedSources).ToArray();
        Assert.NotEmpty(sources);
        foreach (GeneratedSourceResult source in sources)
        {
            Verify(source.SourceText.ToString(), source.HintName, testFile, testMethod);
        }
    }

    public static void Verify(string actual, string hintName, string testFile, string testMethod)
    {
        string directory = Path.GetDirectoryName(testFile)!;
        string testClass = Path.GetFileNameWithoutExtension(testFile);
        string stem = $"{testClass}.{testMethod}#{Path.GetFileNameWithoutExtension(hintName)}";
        string verifiedPath = Path.Combine(directory, stem + ".verified.cs");
        string receivedPath = Path.Combine(directory, stem + ".received.cs");
        actual = Scrub(Normalize(actual));

        string? verified = File.Exists(verifiedPath) ? Normalize(File.ReadAllText(verifiedPath)) : null;
        if (verified == actual)
        {
            File.Delete(receivedPath);
            return;
        }

        bool accept = Environment.GetEnvironmentVariable("TYPEDZMQ_ACCEPT_SNAPSHOTS") == "1" &&
                      !string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);
        if (accept)
        {
            File.WriteAllText(verifiedPath, actual);
            File.Delete(receivedPath);
            return;
        }

        File.WriteAllText(receivedPath, actual);
        Assert.Fail(verified is null
            ? $"No snapshot yet: {verifiedPath}\nThe output was written to {receivedPath}. Review it, then rename it to .verified.cs " +
              "or run the tests with TYPEDZMQ_ACCEPT_SNAPSHOTS=1."
            : $"The generated code differs from {verifiedPath}\n{Diff(verified, actual)}\nThe output was written to {receivedPath}. " +
              "If the change is intended, accept it with TYPEDZMQ_ACCEPT_SNAPSHOTS=1.");
    }

    private static string Normalize(string text) => text.Replace("\r\n", "\n").TrimStart('\uFEFF');

    /// <summary>Replaces what changes from build to build without changing the code's meaning: the generator's version.</summary>
    public static string Scrub(string text) =>
        System.Text.RegularExpressions.Regex.Replace(text, "GeneratedCode\\(\"TypedZmq\\.Generator\", \"[^\"]*\"\\)", "GeneratedCode(\"TypedZmq.Generator\", \"{version}\")");

    /// <summary>A readable line diff: the changed region with a few lines of context.</summary>
    private static string Diff(string expected, string actual)
    {
        string[] left = expected.Split('\n');
        string[] right = actual.Split('\n');
        int start = 0;
        while (start < left.Length && start < right.Length && left[start] == right[start])
        {
            start++;
        }

        int endLeft = left.Length - 1;
        int endRight = right.Length - 1;
        while (endLeft >= start && endRight >= start && left[endLeft] == right[endRight])
        {
            endLeft--;
            endRight--;
        }

        var diff = new StringBuilder();
        int from = Math.Max(0, start - 3);
        for (int i = from; i < start; i++)
        {
            diff.Append("  ").AppendLine(left[i]);
        }

        for (int i = start; i <= endLeft; i++)
        {
            diff.Append("- ").AppendLine(left[i]);
        }

        for (int i = start; i <= endRight; i++)
        {
            diff.Append("+ ").AppendLine(right[i]);
        }

        for (int i = endLeft + 1; i < Math.Min(left.Length, endLeft + 4); i++)
        {
            diff.Append("  ").AppendLine(left[i]);
        }

        return $"@@ line {start + 1} @@\n{diff}";
    }
}
