using System.Globalization;
using System.Text;
using NotebookTrainer.Display;
using NotebookTrainer.Tagging;

namespace NotebookTrainer.Curation;

public sealed record TagFrequency(string Tag, int Images, double Fraction, TagCategory? Category);

/// <summary>How many images carry each tag, with the WD14 category when a tag list is known; sortable HTML table.</summary>
public sealed record TagFrequencyTable(int ImageCount, IReadOnlyList<TagFrequency> Rows) : IHtmlRenderable
{
    public static TagFrequencyTable From(IReadOnlyList<IReadOnlyList<string>> captions, SelectedTags? tags = null)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var caption in captions)
            foreach (var t in caption.Distinct(StringComparer.Ordinal))
                counts[t] = counts.GetValueOrDefault(t) + 1;
        var n = captions.Count;
        var rows = counts.Select(p => new TagFrequency(p.Key, p.Value, n > 0 ? (double)p.Value / n : 0, tags?.Find(p.Key)?.Category))
            .OrderByDescending(r => r.Images).ThenBy(r => r.Tag, StringComparer.Ordinal).ToList();
        return new TagFrequencyTable(n, rows);
    }

    public int CountOf(string tag) => Rows.FirstOrDefault(r => r.Tag == tag)?.Images ?? 0;

    public override string ToString()
    {
        var sb = new StringBuilder($"{Rows.Count} tags over {ImageCount} images");
        foreach (var r in Rows) sb.Append('\n').Append($"{r.Images,6} {r.Fraction,7:P1}  {r.Tag}{(r.Category is { } c ? $"  [{c.ToString().ToLowerInvariant()}]" : "")}");
        return sb.ToString();
    }

    /// <summary>Clicking a header sorts by that column (the script only reorders rows; all text is escaped server-side).</summary>
    public string ToHtml()
    {
        var id = "nt-freq-" + Guid.NewGuid().ToString("N")[..8];
        var sb = new StringBuilder();
        sb.Append("<div class=\"nt-freq\"><p>").Append(Rows.Count).Append(" tags over ").Append(ImageCount).Append(" images</p>");
        sb.Append("<table class=\"nt-table\" id=\"").Append(id).Append("\"><thead><tr>");
        string[] headers = ["tag", "images", "% of images", "category"];
        for (var i = 0; i < headers.Length; i++)
            sb.Append("<th style=\"cursor:pointer\" onclick=\"ntSort('").Append(id).Append("',").Append(i).Append(")\">").Append(headers[i]).Append("</th>");
        sb.Append("</tr></thead><tbody>");
        foreach (var r in Rows)
        {
            sb.Append("<tr><td>").Append(Html.Escape(r.Tag)).Append("</td>")
              .Append("<td data-v=\"").Append(r.Images).Append("\">").Append(r.Images).Append("</td>")
              .Append("<td data-v=\"").Append(r.Fraction.ToString("R", CultureInfo.InvariantCulture)).Append("\">").Append((r.Fraction * 100).ToString("0.0", CultureInfo.InvariantCulture)).Append("%</td>")
              .Append("<td>").Append(r.Category is { } c ? c.ToString().ToLowerInvariant() : "").Append("</td></tr>");
        }
        sb.Append("</tbody></table>");
        sb.Append("""
            <script>
            function ntSort(id, col) {
              const t = document.getElementById(id), b = t.tBodies[0], rows = Array.from(b.rows);
              const dir = t.dataset.col == col && t.dataset.dir == 'asc' ? 'desc' : 'asc';
              t.dataset.col = col; t.dataset.dir = dir;
              const key = r => { const c = r.cells[col]; return c.dataset.v !== undefined ? parseFloat(c.dataset.v) : c.textContent; };
              rows.sort((a, b) => { const x = key(a), y = key(b); const o = x < y ? -1 : x > y ? 1 : 0; return dir == 'asc' ? o : -o; });
              rows.forEach(r => b.appendChild(r));
            }
            </script></div>
            """);
        return sb.ToString();
    }
}
