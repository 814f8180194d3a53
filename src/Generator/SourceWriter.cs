using System;
using System.Text;

namespace TypedZmq.Generator;

/// <summary>A small indented text writer for generated source: cheaper and more readable than building syntax trees.</summary>
internal sealed class SourceWriter
{
    private readonly StringBuilder _builder = new();
    private int _indent;

    public void WriteLine(string line = "")
    {
        if (line.Length > 0)
        {
            _builder.Append(' ', _indent * 4);
            _builder.Append(line);
        }

        _builder.Append('\n');
    }

    /// <summary>Writes a multi-line block (for example a raw string literal), indenting each line.</summary>
    public void WriteBlock(string text)
    {
        foreach (string line in text.Replace("\r\n", "\n").Split('\n'))
        {
            WriteLine(line);
        }
    }

    public void OpenBrace()
    {
        WriteLine("{");
        _indent++;
    }

    public void CloseBrace(string suffix = "")
    {
        _indent = Math.Max(0, _indent - 1);
        WriteLine("}" + suffix);
    }

    public override string ToString() => _builder.ToString();
}
