using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace TypedZmq.Generator.Model;

/// <summary>A diagnostic to report, held as plain values so that it can travel through the incremental pipeline.</summary>
/// <param name="Id">The descriptor's id.</param>
/// <param name="FilePath">The file the diagnostic points into.</param>
/// <param name="Span">The text span.</param>
/// <param name="LineSpan">The line span.</param>
/// <param name="Arguments">The message arguments.</param>
internal sealed record DiagnosticInfo(string Id, string FilePath, TextSpan Span, LinePositionSpan LineSpan, EquatableArray<string> Arguments)
{
    public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, Location? location, params string[] arguments)
    {
        location ??= Location.None;
        FileLinePositionSpan lines = location.GetLineSpan();
        return new DiagnosticInfo(descriptor.Id, lines.Path ?? "", location.SourceSpan, lines.Span, new EquatableArray<string>(arguments));
    }

    public Location ToLocation() =>
        FilePath.Length == 0 ? Location.None : Location.Create(FilePath, Span, LineSpan);
}
