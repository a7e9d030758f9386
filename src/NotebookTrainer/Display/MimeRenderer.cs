using System.Text;
using NotebookTrainer.Progress;
using Plotly.NET;
using SkiaSharp;
using TorchSharp;

namespace NotebookTrainer.Display;

/// <summary>
/// Decides how a value looks in a notebook. Our runner calls <see cref="Render"/> for every displayed value;
/// the Polyglot kernel reaches <see cref="ToHtml"/> through <see cref="NotebookFormatterSource"/>.
/// </summary>
public static class MimeRenderer
{
    public static MimeBundle Render(object? value)
    {
        var data = new Dictionary<string, string> { [MimeBundle.PlainText] = PlainText(value) };
        switch (value)
        {
            case GenericChart chart:
                data[MimeBundle.Html] = ChartHtml(chart);
                data[MimeBundle.PlotlyJson] = GenericChart.toFigureJson(chart);
                break;
            case SKBitmap or SKImage:
                data[MimeBundle.Png] = Convert.ToBase64String(Png(value));
                break;
            default:
                if (ToHtml(value) is { } html) data[MimeBundle.Html] = html;
                break;
        }
        return new MimeBundle(data);
    }

    /// <summary>HTML for the types that have a rich view; null for the rest (they show as text).</summary>
    public static string? ToHtml(object? value) => value switch
    {
        IHtmlRenderable renderable => renderable.ToHtml(),
        ProgressUpdate update => ProgressHtml(update),
        GenericChart chart => ChartHtml(chart),
        SKBitmap or SKImage => $"<img alt=\"image\" src=\"data:image/png;base64,{Convert.ToBase64String(Png(value!))}\"/>",
        _ => null,
    };

    public static string PlainText(object? value) => value switch
    {
        null => "<null>",
        string s => s,
        torch.Tensor tensor => tensor.ToString(TensorStringStyle.Default),
        GenericChart => "Plotly chart",
        SKBitmap bitmap => $"SKBitmap {bitmap.Width}x{bitmap.Height}",
        SKImage image => $"SKImage {image.Width}x{image.Height}",
        IHtmlRenderable => value.ToString() ?? "",
        System.Collections.IEnumerable items => Sequence(items),
        _ => value.ToString() ?? "",
    };

    /// <summary>A collection's items rather than its type name: <c>[a, b, c]</c>, the first 100 at most.</summary>
    static string Sequence(System.Collections.IEnumerable items)
    {
        const int limit = 100;
        var shown = items.Cast<object?>().Take(limit + 1).Select(item => item switch
        {
            string s => s,
            System.Collections.IEnumerable inner => Sequence(inner),
            _ => item?.ToString() ?? "null",
        }).ToList();
        var more = shown.Count > limit ? ", …" : "";
        return "[" + string.Join(", ", shown.Take(limit)) + more + "]";
    }

    public static string ProgressHtml(ProgressUpdate update)
    {
        var eta = update.Eta is { } e ? $", ETA {(e.TotalHours >= 1 ? e.ToString(@"h\:mm\:ss") : e.ToString(@"m\:ss"))}" : "";
        var detail = string.IsNullOrEmpty(update.Detail) ? "" : " — " + Html.Escape(update.Detail);
        var sb = new StringBuilder();
        sb.Append("<div class=\"nt-progress\"><progress style=\"width:24em\" max=\"").Append(Math.Max(update.Total, 1))
          .Append("\" value=\"").Append(Math.Clamp(update.Done, 0, Math.Max(update.Total, 1))).Append("\"></progress> ")
          .Append("<span>").Append(Html.Escape(update.Task)).Append(": ").Append(update.Done).Append('/').Append(update.Total)
          .Append(" (").Append(update.Fraction.ToString("P0", System.Globalization.CultureInfo.InvariantCulture)).Append("), ")
          .Append(update.RatePerSecond.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture)).Append("/s")
          .Append(eta).Append(detail).Append("</span></div>");
        return sb.ToString();
    }

    /// <summary>
    /// A div and a script that draws the chart's figure JSON with the page's plotly.js. Charts do not embed
    /// plotly.js: our report ships it once (see <see cref="PlotlyJs"/>). Only a page without it (a kernel's
    /// webview, Jupyter opening an executed notebook) loads it from the plotly CDN, through require.js when
    /// the page uses AMD modules.
    /// </summary>
    public static string ChartHtml(GenericChart chart)
    {
        var id = "nt-chart-" + Guid.NewGuid().ToString("N")[..12];
        var figure = GenericChart.toFigureJson(chart);
        var cdn = $"https://cdn.plot.ly/plotly-{PlotlyJs.Version}.min";
        return $$$"""
            <div id="{{{id}}}" style="max-width:100%"></div>
            <script type="text/javascript">
            (function () {
              var figure = {{{figure}}};
              function draw(P) { P.newPlot('{{{id}}}', figure.data, figure.layout, {responsive: true}); }
              if (window.Plotly) { draw(window.Plotly); }
              else if (typeof require === 'function') { require.config({paths: {plotly: '{{{cdn}}}'}}); require(['plotly'], draw); }
              else { var s = document.createElement('script'); s.src = '{{{cdn}}}.js'; s.onload = function () { draw(window.Plotly); }; document.head.appendChild(s); }
            })();
            </script>
            """;
    }

    public static byte[] Png(object image)
    {
        using var owned = image is SKBitmap bitmap ? SKImage.FromBitmap(bitmap) : null;
        var skImage = owned ?? (SKImage)image;
        using var data = skImage.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }
}
