using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using TypedZmq.Generator.Diagnostics;
using TypedZmq.Generator.Model;

namespace TypedZmq.Generator.Contracts;

/// <summary>A contract file as the pipeline carries it: equatable, no <see cref="AdditionalText"/>.</summary>
/// <param name="Path">Where it is.</param>
/// <param name="Shipped">TypedZmq.Contract.Shipped.txt (true) or TypedZmq.Contract.Unshipped.txt.</param>
/// <param name="Text">Its content.</param>
internal sealed record ContractFile(string Path, bool Shipped, string Text)
{
    public const string ShippedName = "TypedZmq.Contract.Shipped.txt";
    public const string UnshippedName = "TypedZmq.Contract.Unshipped.txt";
}

/// <summary>
/// Compares the entries the code has now with the contract files (docs/versioning.md): a shipped entry that is gone or
/// changed in a way old peers cannot read is an error; anything new or compatibly changed must be in the unshipped file
/// (a warning until it is); the unshipped file must hold nothing else.
/// </summary>
internal static class ContractCheck
{
    /// <param name="current">The entries of the code.</param>
    /// <param name="shippedFile">TypedZmq.Contract.Shipped.txt, if the project has it.</param>
    /// <param name="unshippedFile">TypedZmq.Contract.Unshipped.txt, if the project has it.</param>
    /// <param name="accepting">The build records the unshipped file now: no warnings about it.</param>
    /// <param name="incomplete">
    /// A service has contract errors and so no entries: nothing is reported as gone (its errors fail the build anyway).
    /// </param>
    /// <returns>What to report, and what the unshipped file should hold: every entry the shipped file lacks as it is.</returns>
    public static (List<Diagnostic> Diagnostics, List<string> Unshipped) Run(EquatableArray<string> current, ContractFile? shippedFile, ContractFile? unshippedFile, bool accepting, bool incomplete)
    {
        var diagnostics = new List<Diagnostic>();
        Dictionary<string, (string Value, Location Where)> shipped = Read(shippedFile, diagnostics);
        Dictionary<string, (string Value, Location Where)> unshipped = accepting ? [] : Read(unshippedFile, diagnostics);
        var now = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string line in current)
        {
            if (ContractEntries.TryParse(line, out string key, out string value))
            {
                now[key] = value;
            }
        }

        // Shipped entries: old peers depend on them.
        foreach (KeyValuePair<string, (string Value, Location Where)> entry in shipped)
        {
            string key = entry.Key;
            if (!now.TryGetValue(key, out string? value))
            {
                if (!incomplete && Gone(key, entry.Value.Value, now) is { } why)
                {
                    diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.ShippedEntryBroken, entry.Value.Where, key, why));
                }
            }
            else if (value != entry.Value.Value && Breaks(key, entry.Value.Value, value) is { } why)
            {
                diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.ShippedEntryBroken, entry.Value.Where, key, why));
            }
        }

        // Everything new or compatibly changed belongs in the unshipped file, exactly (when accepting, the build writes it).
        var toRecord = new List<string>();
        Location unrecordedAt = At(unshippedFile ?? shippedFile!, 0);
        foreach (KeyValuePair<string, string> entry in now)
        {
            bool asShipped = shipped.TryGetValue(entry.Key, out (string Value, Location Where) old) && old.Value == entry.Value;
            if (asShipped)
            {
                continue;
            }

            toRecord.Add(entry.Key + ContractEntries.Separator + entry.Value);
            if (accepting)
            {
                continue;
            }

            if (!unshipped.TryGetValue(entry.Key, out (string Value, Location Where) recorded))
            {
                diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.UnshippedOutOfStep, unrecordedAt, $"'{entry.Key + ContractEntries.Separator + entry.Value}' is not recorded"));
            }
            else if (recorded.Value != entry.Value)
            {
                diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.UnshippedOutOfStep, recorded.Where, $"the entry for '{entry.Key}' no longer matches the code, which now has '{entry.Key + ContractEntries.Separator + entry.Value}'"));
            }
        }

        foreach (KeyValuePair<string, (string Value, Location Where)> entry in accepting ? [] : unshipped)
        {
            if (!now.TryGetValue(entry.Key, out string? value) || (shipped.TryGetValue(entry.Key, out (string Value, Location Where) old) && old.Value == value))
            {
                diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.UnshippedOutOfStep, entry.Value.Where, $"the entry for '{entry.Key}' describes nothing new in the code"));
            }
        }

        return (diagnostics, toRecord);
    }

    /// <summary>Why a changed shipped entry breaks old peers, or null when they can still read it.</summary>
    private static string? Breaks(string key, string was, string now)
    {
        if (key.StartsWith("type ", StringComparison.Ordinal))
        {
            (string kindWas, List<string> membersWas) = ContractEntries.Layout(was);
            (string kindNow, List<string> membersNow) = ContractEntries.Layout(now);
            if (kindWas != kindNow)
            {
                return $"changed its layout from {kindWas} to {kindNow}; old peers read the other layout";
            }

            if (kindNow == "Union")
            {
                foreach (string shippedCase in membersWas)
                {
                    if (!membersNow.Contains(shippedCase))
                    {
                        return $"no longer has the case '{shippedCase}': a union case was removed, or its tag or type changed";
                    }
                }

                return null; // cases added: only new senders send them
            }

            for (int i = 0; i < membersWas.Count; i++)
            {
                if (i >= membersNow.Count || membersNow[i] != membersWas[i])
                {
                    string member = i >= membersNow.Count ? "is gone" : $"is now {membersNow[i]}";
                    return $"member {i + 1} (shipped as {membersWas[i]}) {member}: a member was removed, reordered or retyped";
                }
            }

            return ContractEntries.SkipsUnknownMembers(kindNow)
                ? null // members appended to a version-tolerant type: old readers skip them
                : "has members appended, and a reader of the shipped version refuses a record with members it does not know; " +
                  "ship new members on a [MemoryPackable(GenerateType.VersionTolerant)] type";
        }

        // Services: the id. Methods: id, arguments and result. The idempotent flag is a client's retry rule, not the wire.
        string[] fieldsWas = ContractEntries.Fields(was);
        string[] fieldsNow = ContractEntries.Fields(now);
        int wireFields = key.StartsWith("method ", StringComparison.Ordinal) ? 3 : 1;
        for (int i = 0; i < wireFields && i < fieldsWas.Length; i++)
        {
            string fieldNow = i < fieldsNow.Length ? fieldsNow[i] : "nothing";
            if (fieldNow != fieldsWas[i])
            {
                return $"changed from '{fieldsWas[i]}' to '{fieldNow}'";
            }
        }

        // A client stream's pushes are wire too (their layout is the stream's item type).
        string? pushesWas = System.Array.Find(fieldsWas, static f => f.StartsWith("pushes ", StringComparison.Ordinal));
        string? pushesNow = System.Array.Find(fieldsNow, static f => f.StartsWith("pushes ", StringComparison.Ordinal));
        return pushesWas is not null && pushesWas != pushesNow ? $"changed from '{pushesWas}' to '{pushesNow ?? "no pushes"}'" : null;
    }

    /// <summary>
    /// Why a shipped entry the code no longer has breaks old peers, or null when it does not: a type no longer reached
    /// (the method that stopped reaching it is reported), or a service or method renamed with its ids and layouts kept.
    /// </summary>
    private static string? Gone(string key, string was, Dictionary<string, string> now)
    {
        bool method = key.StartsWith("method ", StringComparison.Ordinal);
        if (!method && !key.StartsWith("service ", StringComparison.Ordinal))
        {
            return null;
        }

        string[] wire = ContractEntries.Fields(was);
        int wireFields = method ? 3 : 1;
        foreach (KeyValuePair<string, string> entry in now)
        {
            if (entry.Key.StartsWith(method ? "method " : "service ", StringComparison.Ordinal) &&
                ContractEntries.Fields(entry.Value).Take(wireFields).SequenceEqual(wire.Take(wireFields)))
            {
                return null; // renamed, the same on the wire (explicit ids)
            }
        }

        return method
            ? "is gone: the method was removed or renamed, or its parameter types changed, so old clients calling it would get Unimplemented"
            : "is gone: the service was removed or renamed, so old clients calling it would get Unimplemented";
    }

    private static Dictionary<string, (string Value, Location Where)> Read(ContractFile? file, List<Diagnostic> diagnostics)
    {
        var entries = new Dictionary<string, (string Value, Location Where)>(StringComparer.Ordinal);
        if (file is null)
        {
            return entries;
        }

        SourceText text = SourceText.From(file.Text);
        foreach (TextLine line in text.Lines)
        {
            string content = line.ToString().Trim();
            if (content.Length == 0 || content.StartsWith("#", StringComparison.Ordinal))
            {
                continue;
            }

            Location where = Location.Create(file.Path, line.Span, text.Lines.GetLinePositionSpan(line.Span));
            if (!ContractEntries.TryParse(content, out string key, out string value))
            {
                diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.ContractLineNotUnderstood, where,
                    $"'{content}' is not a contract entry ('service', 'method' or 'type', a name, then ' | ' and fields)"));
            }
            else if (entries.ContainsKey(key))
            {
                diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.ContractLineNotUnderstood, where, $"'{key}' has a second entry here; keep one"));
            }
            else
            {
                entries.Add(key, (value, where));
            }
        }

        return entries;
    }

    private static Location At(ContractFile file, int line)
    {
        SourceText text = SourceText.From(file.Text);
        TextSpan span = text.Lines.Count > line ? text.Lines[line].Span : new TextSpan(0, 0);
        return Location.Create(file.Path, span, text.Lines.GetLinePositionSpan(span));
    }
}
