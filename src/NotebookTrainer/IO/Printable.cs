using System.Globalization;
using System.Text;

namespace NotebookTrainer.IO;

/// <summary>
/// Text from a file made safe to print on a terminal: control characters (escape sequences, carriage returns, NUL,
/// bidi overrides) and lone surrogates become visible escapes such as <c>\x1b</c> or <c>\u202e</c>.
/// </summary>
public static class Printable
{
    public static string Escape(string? text)
    {
        if (text is null) return "";
        if (!NeedsEscape(text)) return text;
        var sb = new StringBuilder(text.Length + 8);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                sb.Append(c).Append(text[++i]);
                continue;
            }
            if (!IsUnsafe(c)) sb.Append(c);
            else if (c < 0x100) sb.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
            else sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }

    static bool NeedsEscape(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) { i++; continue; }
            if (IsUnsafe(text[i])) return true;
        }
        return false;
    }

    internal static bool IsUnsafe(char c) =>
        char.IsControl(c) || char.IsSurrogate(c) || CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.Format && c != '\u200d';
}

/// <summary>
/// A writer that passes text through <see cref="Printable"/> rules, keeping line breaks and tabs: what a terminal
/// front (ntrain) wraps its standard output and error in, so no file content can move the cursor or recolour the screen.
/// </summary>
public sealed class PrintableWriter(TextWriter inner) : TextWriter
{
    public override System.Text.Encoding Encoding => inner.Encoding;

    public override void Write(char value)
    {
        if (value is '\n' or '\r' or '\t' || !Printable.IsUnsafe(value) || char.IsSurrogate(value)) inner.Write(value);
        else inner.Write(Printable.Escape(value.ToString()));
    }

    public override void Write(string? value) => inner.Write(Escape(value));
    public override void WriteLine(string? value) => inner.WriteLine(Escape(value));
    public override void Write(char[] buffer, int index, int count) => inner.Write(Escape(new string(buffer, index, count)));
    public override void Flush() => inner.Flush();

    /// <summary>Escapes each line on its own, so the breaks between lines survive.</summary>
    static string? Escape(string? value) => value is null ? null
        : value.AsSpan().IndexOfAny('\n', '\r', '\t') < 0 ? Printable.Escape(value)
        : string.Concat(System.Text.RegularExpressions.Regex.Split(value, "([\r\n\t])").Select(part => part is "\n" or "\r" or "\t" ? part : Printable.Escape(part)));
}
