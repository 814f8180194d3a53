using System.Collections.Generic;
using System.Globalization;
using System.Text;
using TypedZmq.Generator.Model;

namespace TypedZmq.Generator.Contracts;

/// <summary>
/// The lines of a contract file (docs/versioning.md): one per service, method and payload type, each
/// <c>kind name | field | field</c>. The part before the first <c> | </c> is the entry's key; the rest is what the wire
/// depends on. Everything here is derived from the cached <see cref="ServiceModel"/>s, so it costs nothing when no
/// contract changed.
/// </summary>
internal static class ContractEntries
{
    public const string Separator = " | ";

    /// <summary>Every entry of <paramref name="services"/>, sorted by key, each type once.</summary>
    public static EquatableArray<string> For(IEnumerable<ServiceModel> services)
    {
        var lines = new SortedDictionary<string, string>(System.StringComparer.Ordinal);
        foreach (ServiceModel service in services)
        {
            string name = Plain(service.InterfaceType);
            Add(lines, $"service {name}", $"id=0x{service.ServiceId.ToString("X8", CultureInfo.InvariantCulture)}{Separator}name {service.ServiceName}");
            foreach (MethodModel method in service.Methods)
            {
                string value = $"id=0x{method.MethodId.ToString("X8", CultureInfo.InvariantCulture)}{Separator}returns {(method.ResultType is { } result ? Plain(result) : "nothing")}";
                Add(lines, $"method {name}.{method.Signature}", method.IsIdempotent ? value + Separator + "idempotent" : value);
            }

            foreach (SchemaDefinition schema in service.Schemas)
            {
                if (TypeEntry(schema) is { } entry)
                {
                    Add(lines, entry.Key, entry.Value);
                }
            }
        }

        var all = new string[lines.Count];
        int i = 0;
        foreach (KeyValuePair<string, string> line in lines)
        {
            all[i++] = line.Key + Separator + line.Value;
        }

        return new EquatableArray<string>(all);
    }

    /// <summary>Splits a line into its key and the rest; false for a line that is not an entry.</summary>
    public static bool TryParse(string line, out string key, out string value)
    {
        int at = line.IndexOf(Separator, System.StringComparison.Ordinal);
        if (at <= 0 || !(line.StartsWith("service ", System.StringComparison.Ordinal) || line.StartsWith("method ", System.StringComparison.Ordinal) ||
            line.StartsWith("type ", System.StringComparison.Ordinal)))
        {
            key = value = "";
            return false;
        }

        key = line.Substring(0, at);
        value = line.Substring(at + Separator.Length);
        return true;
    }

    /// <summary>The layout kind and member schemas of a type entry's value (<c>VersionTolerant | String, Fixed&lt;int&gt;</c>).</summary>
    public static (string Kind, List<string> Members) Layout(string value)
    {
        int at = value.IndexOf(Separator, System.StringComparison.Ordinal);
        return at < 0 ? (value, new List<string>()) : (value.Substring(0, at), SplitTopLevel(value.Substring(at + Separator.Length)));
    }

    // PayloadSchema.Object("Shop.Person") and its Define arguments become "type Shop.Person | Object | String, Fixed<int>".
    private static KeyValuePair<string, string>? TypeEntry(SchemaDefinition schema)
    {
        const string Prefix = "global::TypedZmq.Internal.PayloadSchema.";
        string factory = schema.Factory;
        int open = factory.IndexOf("(\"", System.StringComparison.Ordinal);
        if (!factory.StartsWith(Prefix, System.StringComparison.Ordinal) || open < 0 || !factory.EndsWith("\")", System.StringComparison.Ordinal))
        {
            return null;
        }

        string kind = factory.Substring(Prefix.Length, open - Prefix.Length);
        string type = factory.Substring(open + 2, factory.Length - open - 4);
        return new KeyValuePair<string, string>($"type {type}", kind + Separator + Normalize(schema.DefineArguments));
    }

    private static string Normalize(string expression) =>
        expression
            .Replace("global::TypedZmq.Internal.PayloadSchema.", "")
            .Replace("global::TypedZmq.Internal.", "")
            .Replace("Schemas.", "schema of ")
            .Replace("global::", "");

    private static string Plain(string type) => type.Replace("global::", "");

    private static void Add(SortedDictionary<string, string> lines, string key, string value)
    {
        if (!lines.ContainsKey(key))
        {
            lines.Add(key, value);
        }
    }

    /// <summary>Splits at commas outside brackets of any kind.</summary>
    private static List<string> SplitTopLevel(string text)
    {
        var parts = new List<string>();
        var current = new StringBuilder();
        int depth = 0;
        foreach (char c in text)
        {
            if (c is '(' or '<' or '[' or '{')
            {
                depth++;
            }
            else if (c is ')' or '>' or ']' or '}')
            {
                depth--;
            }

            if (c == ',' && depth == 0)
            {
                parts.Add(current.ToString().Trim());
                current.Clear();
                continue;
            }

            current.Append(c);
        }

        if (current.ToString().Trim().Length > 0)
        {
            parts.Add(current.ToString().Trim());
        }

        return parts;
    }
}
