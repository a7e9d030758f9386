using System.Net;
using System.Text;

namespace NotebookTrainer.Display;

/// <summary>Small helpers for building HTML fragments from untrusted text (tags come from the internet).</summary>
public static class Html
{
    public static string Escape(string? text) => WebUtility.HtmlEncode(text ?? "");

    /// <summary>A table whose header and cells are escaped; <paramref name="cssClass"/> is trusted.</summary>
    public static HtmlFragment Table(IEnumerable<string> header, IEnumerable<IEnumerable<object?>> rows, string cssClass = "nt-table")
    {
        var sb = new StringBuilder();
        sb.Append("<table class=\"").Append(cssClass).Append("\"><thead><tr>");
        foreach (var h in header) sb.Append("<th>").Append(Escape(h)).Append("</th>");
        sb.Append("</tr></thead><tbody>");
        foreach (var row in rows)
        {
            sb.Append("<tr>");
            foreach (var cell in row) sb.Append("<td>").Append(Escape(Convert.ToString(cell, System.Globalization.CultureInfo.InvariantCulture))).Append("</td>");
            sb.Append("</tr>");
        }
        sb.Append("</tbody></table>");
        return new HtmlFragment(sb.ToString());
    }
}
