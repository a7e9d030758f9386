using System.Text;
using NotebookTrainer.Display;

namespace NotebookTrainer.Tagging;

/// <summary>The outcome of a tagging run: per-image tags, skipped files, speed and a tag frequency list.</summary>
public sealed record TaggingReport(string ModelDirectory, string ExecutionProvider, IReadOnlyList<ImageTags> Results,
    IReadOnlyList<SkippedImage> Skipped, TimeSpan Elapsed) : IHtmlRenderable
{
    public double ImagesPerSecond => Elapsed.TotalSeconds > 0 ? (Results.Count + Skipped.Count) / Elapsed.TotalSeconds : 0;

    /// <summary>How many captions carry each tag, most frequent first (kohya's --frequency_tags list).</summary>
    public IReadOnlyList<KeyValuePair<string, int>> TagFrequencies() =>
        Results.SelectMany(r => r.Caption.Distinct())
            .GroupBy(t => t, StringComparer.Ordinal)
            .Select(g => new KeyValuePair<string, int>(g.Key, g.Count()))
            .OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal)
            .ToList();

    public override string ToString() =>
        $"tagged {Results.Count} images, skipped {Skipped.Count}, {Elapsed.TotalSeconds:0.0} s ({ImagesPerSecond:0.0} images/s) on {ExecutionProvider}";

    public string ToHtml()
    {
        var sb = new StringBuilder();
        sb.Append("<div class=\"nt-tagging\"><p>").Append(Html.Escape(ToString())).Append("</p>");
        if (Skipped.Count > 0)
            sb.Append("<p><b>Skipped</b></p>").Append(Html.Table(["image", "reason"], Skipped.Select(s => new object?[] { Path.GetFileName(s.ImagePath), s.Reason })));
        sb.Append(Html.Table(["image", "caption"], Results.Take(50).Select(r => new object?[] { Path.GetFileName(r.ImagePath), string.Join(", ", r.Caption) })));
        if (Results.Count > 50) sb.Append("<p>… ").Append(Results.Count - 50).Append(" more</p>");
        sb.Append("</div>");
        return sb.ToString();
    }
}
