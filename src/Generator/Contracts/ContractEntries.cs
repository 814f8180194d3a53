using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using TypedZmq.Generator.Model;

namespace TypedZmq.Generator.Contracts;

/// <summary>
/// The lines of a contract file (docs/versioning.md): one per service, method and payload type, each
/// <c>kind name | field | field</c>. The part before the first <c> | </c> is the entry's key (the service's wire name,
/// the method's signature, the type's full name); the rest is what the wire depends on: ids and payload layouts. Everything here is derived from the cached <see cref="ServiceModel"/>s, so it costs nothing when no
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
            // Schemas refer to each other by a generated field name; entries name the type instead, so that they do not
            // depend on which service reached a type first or on two types sharing a short name.
            var typeOfField = new Dictionary<string, string>(System.StringComparer.Ordinal);
            foreach (SchemaDefinition schema in service.Schemas)
            {
                if (KindAndType(schema.Factory) is { } named)
                {
                    typeOfField[schema.Field] = named.Type;
                }
            }

            string serviceName = service.ServiceName;
            Add(lines, $"service {serviceName}", Hex(service.ServiceId));
            foreach (MethodModel method in service.Methods)
            {
                var value = new StringBuilder(Hex(method.MethodId))
                    .Append(Separator).Append("args (").Append(string.Join(", ", method.ArgumentSchemas.Select(a => Normalize(a, typeOfField)))).Append(')')
                    .Append(Separator).Append("returns ").Append(method.ResultSchema is { } result ? Normalize(result, typeOfField) : "nothing");
                if (method.PushSchema is { } push)
                {
                    value.Append(Separator).Append("pushes ").Append(Normalize(push, typeOfField)); // a client stream's items
                }

                if (method.IsIdempotent)
                {
                    value.Append(Separator).Append("idempotent");
                }

                Add(lines, $"method {serviceName}.{method.Signature}", value.ToString());
            }

            foreach (SchemaDefinition schema in service.Schemas)
            {
                if (KindAndType(schema.Factory) is { } named)
                {
                    string layout = named.Kind == "Union" ? UnionCases(schema.DefineArguments, typeOfField) : Normalize(schema.DefineArguments, typeOfField);
                    Add(lines, $"type {named.Type}", layout.Length == 0 ? named.Kind : named.Kind + Separator + layout);
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

    /// <summary>The fields of an entry's value: for a method, id, arguments, result and maybe <c>idempotent</c>.</summary>
    public static string[] Fields(string value) => value.Split(new[] { Separator }, System.StringSplitOptions.None);

    /// <summary>Whether a type layout reads members it does not know by skipping them (MemoryPack writes their sizes).</summary>
    public static bool SkipsUnknownMembers(string kind) => kind is "VersionTolerant" or "CircularReference";

    /// <summary>Splits a line into its key and the rest; false for a line that is not an entry.</summary>
    public static bool TryParse(string line, out string key, out string value)
    {
        line = line.Trim();
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

    // PayloadSchema.Object("Shop.Person") gives ("Object", "Shop.Person").
    private static (string Kind, string Type)? KindAndType(string factory)
    {
        const string Prefix = "global::TypedZmq.Internal.PayloadSchema.";
        int open = factory.IndexOf("(\"", System.StringComparison.Ordinal);
        if (!factory.StartsWith(Prefix, System.StringComparison.Ordinal) || open < 0 || !factory.EndsWith("\")", System.StringComparison.Ordinal))
        {
            return null;
        }

        return (factory.Substring(Prefix.Length, open - Prefix.Length), factory.Substring(open + 2, factory.Length - open - 4));
    }

    // "new ushort[] { 0, 300 }, new PayloadSchema[] { Schemas.Circle, Schemas.Square }" gives "0: schema of Shop.Circle,
    // 300: schema of Shop.Square", by tag: the order of the attributes is not on the wire.
    private static string UnionCases(string defineArguments, Dictionary<string, string> typeOfField)
    {
        List<string> parts = SplitTopLevel(defineArguments);
        if (parts.Count != 2)
        {
            return Normalize(defineArguments, typeOfField);
        }

        List<string> tags = SplitTopLevel(Inside(parts[0]));
        List<string> cases = SplitTopLevel(Inside(parts[1]));
        var pairs = new List<(int Tag, string Case)>();
        for (int i = 0; i < tags.Count && i < cases.Count; i++)
        {
            pairs.Add((int.Parse(tags[i], CultureInfo.InvariantCulture), Normalize(cases[i], typeOfField)));
        }

        return string.Join(", ", pairs.OrderBy(p => p.Tag).Select(p => p.Tag.ToString(CultureInfo.InvariantCulture) + ": " + p.Case));
    }

    private static string Inside(string braced)
    {
        int open = braced.IndexOf('{');
        int close = braced.LastIndexOf('}');
        return open >= 0 && close > open ? braced.Substring(open + 1, close - open - 1) : braced;
    }

    private static string Normalize(string expression, Dictionary<string, string> typeOfField) =>
        Regex.Replace(expression, @"\bSchemas\.([A-Za-z_][A-Za-z0-9_]*)", m => "schema of " + (typeOfField.TryGetValue(m.Groups[1].Value, out string? type) ? type : m.Groups[1].Value))
            .Replace("global::TypedZmq.Internal.PayloadSchema.", "")
            .Replace("global::TypedZmq.Internal.", "")
            .Replace("global::", "");

    private static string Hex(uint id) => "id=0x" + id.ToString("X8", CultureInfo.InvariantCulture);

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
