using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace NotebookTrainer.Tokenizers;

/// <summary>
/// CLIP's text normalisation: the parts of ftfy.fix_text that change real captions (curly quotes, Latin ligatures,
/// full-width forms, control characters, NFC), HTML unescaped twice, whitespace collapsed, lower-cased.
/// ftfy's mojibake repair is not reproduced; captions are already UTF-8 text here.
/// </summary>
public static partial class ClipTextCleaner
{
    public static string Clean(string text)
    {
        var fixedText = FixText(text);
        fixedText = WebUtility.HtmlDecode(WebUtility.HtmlDecode(fixedText)).Trim();
        return Whitespace().Replace(fixedText, " ").Trim().ToLowerInvariant();
    }

    static string FixText(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            switch (c)
            {
                case '\u2018' or '\u2019' or '\u201A' or '\u201B': sb.Append('\''); break;
                case '\u201C' or '\u201D' or '\u201E' or '\u201F': sb.Append('"'); break;
                case '\uFB00': sb.Append("ff"); break;
                case '\uFB01': sb.Append("fi"); break;
                case '\uFB02': sb.Append("fl"); break;
                case '\uFB03': sb.Append("ffi"); break;
                case '\uFB04': sb.Append("ffl"); break;
                case '\uFB05' or '\uFB06': sb.Append("st"); break;
                case '\u3000': sb.Append(' '); break;
                case >= '\uFF01' and <= '\uFF5E': sb.Append((char)(c - 0xFEE0)); break;
                case '\t' or '\n' or '\r': sb.Append(c); break;
                default:
                    if (!char.IsControl(c)) sb.Append(c);
                    break;
            }
        }
        return sb.ToString().Normalize(NormalizationForm.FormC);
    }

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
