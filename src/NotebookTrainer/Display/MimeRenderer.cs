using System.Text;
using NotebookTrainer.Progress;
using Plotly.NET;
using SkiaSharp;
using TorchSharp;

namespace NotebookTrainer.Display;

/// <summary>Where a rendered Plotly chart gets plotly.js from.</summary>
public enum PlotlyScript
{
    /// <summary>The page already has plotly.js (our HTML report ships it once).</summary>
    ProvidedByPage,

    /// <summary>Load it from the plotly CDN when the page lacks it (the Polyglot kernel's webview).</summary>
    FromCdn,
}

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
                data[MimeBundle.Html] = ChartHtml(chart, PlotlyScript.ProvidedByPage);
                data[MimeBundle.PlotlyJson] = GenericChart.toFigureJson(chart);
                break;
            case SKBitmap or SKImage:
                data[MimeBundle.Png] = Convert.ToBase64String(Png(value));
                break;
            default:
                if (ToHtml(value, PlotlyScript.ProvidedByPage) is { } html) data[MimeBundle.Html] = html;
                break;
        }
        return new MimeBundle(data);
    }

    /// <summary>HTML for the types that have a rich view; null for the rest (they show as text).</summary>
    public static string? ToHtml(object? value, PlotlyScript plotly) => value switch
    {
        IHtmlRenderable renderable => renderable.ToHtml(),
        ProgressUpdate update => ProgressHtml(update),
        GenericChart chart => ChartHtml(chart, plotly),
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
        _ => value.ToString() ?? "",
    };

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
    /// A div and a script that draws the chart's figure JSON. Charts do not embed plotly.js: a page that shows
    /// many charts ships it once (see <see cref="PlotlyJs"/>).
    /// </summary>
    public static string ChartHtml(GenericChart chart, PlotlyScript plotly)
    {
        var id = "nt-chart-" + Guid.NewGuid().ToString("N")[..12];
        var figure = GenericChart.toFigureJson(chart);
        var cdn = $"https://cdn.plot.ly/plotly-{PlotlyJs.Version}.min";
        var load = plotly == PlotlyScript.FromCdn
            ? $$$"""
               else if (typeof require === 'function') { require.config({paths: {plotly: '{{{cdn}}}'}}); require(['plotly'], function (P) { draw(P); }); }
               else { var s = document.createElement('script'); s.src = '{{{cdn}}}.js'; s.onload = function () { draw(window.Plotly); }; document.head.appendChild(s); }
               """
            : "";
        return $$"""
            <div id="{{id}}" style="max-width:100%"></div>
            <script type="text/javascript">
            (function () {
              var figure = {{figure}};
              function draw(P) { P.newPlot('{{id}}', figure.data, figure.layout, {responsive: true}); }
              if (window.Plotly) { draw(window.Plotly); }{{load}}
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
