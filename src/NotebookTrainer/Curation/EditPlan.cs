using System.Text;
using NotebookTrainer.Display;

namespace NotebookTrainer.Curation;

/// <summary>One caption an operation would change, as tag lists.</summary>
public sealed record CaptionDiff(string Image, string CaptionFile, IReadOnlyList<string> Before, IReadOnlyList<string> After,
    string? BeforeText, string AfterText)
{
    public IEnumerable<string> Removed => Before.Except(After, StringComparer.Ordinal);
    public IEnumerable<string> Added => After.Except(Before, StringComparer.Ordinal);
}

/// <summary>
/// What an operation would do (a dry run): the captions it changes with tags removed and added. Nothing is written
/// until the plan is applied through <see cref="CurationSession.Apply(EditPlan)"/>.
/// </summary>
public sealed record EditPlan(string Description, IReadOnlyList<CaptionDiff> Changes) : IHtmlRenderable
{
    public bool IsEmpty => Changes.Count == 0;

    public override string ToString()
    {
        var sb = new StringBuilder($"{Description}: {Changes.Count} caption(s) change");
        foreach (var c in Changes)
        {
            sb.Append('\n').Append("  ").Append(Path.GetFileName(c.Image)).Append(':');
            foreach (var r in c.Removed) sb.Append(" -").Append(r);
            foreach (var a in c.Added) sb.Append(" +").Append(a);
            if (!c.Removed.Any() && !c.Added.Any()) sb.Append(" reordered → ").Append(c.AfterText.TrimEnd('\n'));
        }
        return sb.ToString();
    }

    public string ToHtml()
    {
        var sb = new StringBuilder("<div class=\"nt-plan\"><p><b>").Append(Html.Escape(Description)).Append("</b>: ")
            .Append(Changes.Count).Append(" caption(s) change</p><table class=\"nt-table\"><thead><tr><th>image</th><th>removed</th><th>added</th><th>new caption</th></tr></thead><tbody>");
        foreach (var c in Changes)
        {
            sb.Append("<tr><td>").Append(Html.Escape(Path.GetFileName(c.Image))).Append("</td><td style=\"color:#b00\">")
              .Append(Html.Escape(string.Join(", ", c.Removed))).Append("</td><td style=\"color:#070\">")
              .Append(Html.Escape(string.Join(", ", c.Added))).Append("</td><td>")
              .Append(Html.Escape(c.AfterText.TrimEnd('\n'))).Append("</td></tr>");
        }
        return sb.Append("</tbody></table></div>").ToString();
    }
}
