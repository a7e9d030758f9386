using System.Text;
using System.Text.RegularExpressions;
using NotebookTrainer.Display;

namespace NotebookTrainer.Runner.Report;

/// <summary>
/// The small subset of Markdown our notebooks use, to HTML: ATX headings, paragraphs, bullet and numbered
/// lists, fenced code, block quotes, rules, and inline code, bold, italics and links. All text is escaped;
/// links keep only http(s), mailto, relative and #anchor targets.
/// </summary>
public static partial class Markdown
{
    public static string ToHtml(string markdown)
    {
        var html = new StringBuilder();
        var paragraph = new List<string>();
        string? openList = null;
        var lines = markdown.Replace("\r\n", "\n").Split('\n');

        void FlushParagraph()
        {
            if (paragraph.Count == 0) return;
            html.Append("<p>").Append(Inline(string.Join(" ", paragraph))).Append("</p>\n");
            paragraph.Clear();
        }

        void CloseList()
        {
            if (openList is null) return;
            html.Append("</").Append(openList).Append(">\n");
            openList = null;
        }

        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            var trimmed = line.Trim();
            if (trimmed.StartsWith("```", StringComparison.Ordinal))
            {
                FlushParagraph();
                CloseList();
                var code = new List<string>();
                for (i++; i < lines.Length && !lines[i].Trim().StartsWith("```", StringComparison.Ordinal); i++) code.Add(lines[i]);
                html.Append("<pre><code>").Append(Html.Escape(string.Join("\n", code))).Append("</code></pre>\n");
                continue;
            }
            if (trimmed.Length == 0)
            {
                FlushParagraph();
                CloseList();
                continue;
            }
            if (Heading().Match(trimmed) is { Success: true } heading)
            {
                FlushParagraph();
                CloseList();
                var level = heading.Groups[1].Length;
                html.Append("<h").Append(level).Append('>').Append(Inline(heading.Groups[2].Value.TrimEnd('#', ' '))).Append("</h").Append(level).Append(">\n");
                continue;
            }
            if (Rule().IsMatch(trimmed))
            {
                FlushParagraph();
                CloseList();
                html.Append("<hr/>\n");
                continue;
            }
            if (trimmed.StartsWith('>'))
            {
                FlushParagraph();
                CloseList();
                html.Append("<blockquote>").Append(Inline(trimmed.TrimStart('>', ' '))).Append("</blockquote>\n");
                continue;
            }
            var bullet = Bullet().Match(trimmed);
            var numbered = Numbered().Match(trimmed);
            if (bullet.Success || numbered.Success)
            {
                FlushParagraph();
                var kind = bullet.Success ? "ul" : "ol";
                if (openList != kind)
                {
                    CloseList();
                    html.Append('<').Append(kind).Append(">\n");
                    openList = kind;
                }
                html.Append("<li>").Append(Inline((bullet.Success ? bullet : numbered).Groups[1].Value)).Append("</li>\n");
                continue;
            }
            if (openList is not null && char.IsWhiteSpace(line[0]))
            {
                // A continuation line of the last list item.
                html.Insert(html.Length - "</li>\n".Length, " " + Inline(trimmed));
                continue;
            }
            CloseList();
            paragraph.Add(trimmed);
        }
        FlushParagraph();
        CloseList();
        return html.ToString();
    }

    /// <summary>Inline markup. Code spans are cut out first so nothing inside them is interpreted.</summary>
    public static string Inline(string text)
    {
        var html = new StringBuilder();
        var parts = text.Split('`');
        for (var i = 0; i < parts.Length; i++)
        {
            var isCode = i % 2 == 1 && i < parts.Length - 1;
            if (isCode) html.Append("<code>").Append(Html.Escape(parts[i])).Append("</code>");
            else html.Append(Emphasis(Links(Html.Escape(i % 2 == 1 ? "`" + parts[i] : parts[i]))));
        }
        return html.ToString();
    }

    static string Links(string escaped) => Link().Replace(escaped, m =>
    {
        var label = m.Groups[2].Value;
        var target = m.Groups[3].Value;
        var safe = SafeTarget().IsMatch(target) || !target.Contains(':');
        return safe ? $"<a href=\"{target}\">{label}</a>" : label;
    });

    static string Emphasis(string html)
    {
        html = Bold().Replace(html, "<strong>$2</strong>");
        return Italic().Replace(html, "<em>$2</em>");
    }

    [GeneratedRegex(@"^(#{1,6})\s+(.*)$")]
    private static partial Regex Heading();

    [GeneratedRegex(@"^(-{3,}|\*{3,}|_{3,})$")]
    private static partial Regex Rule();

    [GeneratedRegex(@"^[-*+]\s+(.*)$")]
    private static partial Regex Bullet();

    [GeneratedRegex(@"^\d+[.)]\s+(.*)$")]
    private static partial Regex Numbered();

    [GeneratedRegex(@"(!?)\[([^\]]+)\]\(([^)\s]+)\)")]
    private static partial Regex Link();

    [GeneratedRegex(@"^(https?:|mailto:)", RegexOptions.IgnoreCase)]
    private static partial Regex SafeTarget();

    [GeneratedRegex(@"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")]
    private static partial Regex Bold();

    [GeneratedRegex(@"(?<![\w*])(\*|_)(?=\S)(.+?)(?<=\S)\1(?![\w*])")]
    private static partial Regex Italic();
}
