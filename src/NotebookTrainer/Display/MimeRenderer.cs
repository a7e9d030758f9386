using System.Text;
using NotebookTrainer.Progress;
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
            case Chart chart:
                data[MimeBundle.Html] = chart.ToHtml();
                data[MimeBundle.PlotlyJson] = chart.FigureJson();
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
        SKBitmap or SKImage => $"<img alt=\"image\" src=\"data:image/png;base64,{Convert.ToBase64String(Png(value!))}\"/>",
        _ => null,
    };

    public static string PlainText(object? value) => value switch
    {
        null => "<null>",
        string s => s,
        torch.Tensor tensor => tensor.ToString(TensorStringStyle.Default),
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

    public static byte[] Png(object image)
    {
        using var owned = image is SKBitmap bitmap ? SKImage.FromBitmap(bitmap) : null;
        var skImage = owned ?? (SKImage)image;
        using var data = skImage.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }
}
