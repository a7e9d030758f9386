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

    static bool IsUnsafe(char c) =>
        char.IsControl(c) || char.IsSurrogate(c) || CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.Format && c != '\u200d';
}
