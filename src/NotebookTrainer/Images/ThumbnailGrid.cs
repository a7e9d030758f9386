using System.Text;
using NotebookTrainer.Display;
using SkiaSharp;

namespace NotebookTrainer.Images;

/// <summary>A grid of small JPEG thumbnails embedded as data URIs, with a caption under each; for notebooks and reports.</summary>
public sealed class ThumbnailGrid : IHtmlRenderable
{
    public sealed record Cell(string ImagePath, string Label, string? DataUri);

    public IReadOnlyList<Cell> Cells { get; }
    public int Size { get; }

    ThumbnailGrid(IReadOnlyList<Cell> cells, int size)
    {
        Cells = cells;
        Size = size;
    }

    /// <summary>Thumbnails of at most <paramref name="max"/> images, longest side <paramref name="size"/> px. Unreadable images get an empty cell.</summary>
    public static ThumbnailGrid Create(IEnumerable<(string ImagePath, string Label)> images, int size = 128, int max = 64)
    {
        var list = images.Take(max).ToList();
        var cells = new Cell[list.Count];
        Parallel.For(0, list.Count, i => cells[i] = new Cell(list[i].ImagePath, list[i].Label, Thumbnail(list[i].ImagePath, size)));
        return new ThumbnailGrid(cells, size);
    }

    /// <summary>A JPEG thumbnail as a data URI, or null when the file cannot be decoded (or is not a regular image file).</summary>
    public static string? Thumbnail(string path, int size)
    {
        SKCodec codec;
        try { codec = ImageFiles.OpenCodec(path); }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException) { return null; }
        using var _ = codec;
        // Decode at a reduced scale when the codec supports it (JPEG), then resize precisely.
        var scale = Math.Min(1f, (float)size / Math.Max(codec.Info.Width, codec.Info.Height));
        var decodeInfo = codec.Info.WithSize(codec.GetScaledDimensions(Math.Max(scale, 1f / 8))).WithColorType(SKColorType.Rgba8888).WithAlphaType(SKAlphaType.Premul);
        using var decoded = new SKBitmap(decodeInfo);
        var result = codec.GetPixels(decodeInfo, decoded.GetPixels());
        if (result is not (SKCodecResult.Success or SKCodecResult.IncompleteInput)) return null;
        var w = Math.Max(1, (int)Math.Round(codec.Info.Width * scale));
        var h = Math.Max(1, (int)Math.Round(codec.Info.Height * scale));
        using var resized = decoded.Resize(new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Premul), new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear));
        if (resized == null) return null;
        using var image = SKImage.FromBitmap(resized);
        using var data = image.Encode(SKEncodedImageFormat.Jpeg, 80);
        return "data:image/jpeg;base64," + Convert.ToBase64String(data.AsSpan());
    }

    public string ToHtml()
    {
        var sb = new StringBuilder();
        sb.Append("<div class=\"nt-thumbs\" style=\"display:flex;flex-wrap:wrap;gap:6px\">");
        foreach (var cell in Cells)
        {
            sb.Append("<figure style=\"margin:0;width:").Append(Size).Append("px;font-size:11px\">");
            if (cell.DataUri != null)
                sb.Append("<img src=\"").Append(cell.DataUri).Append("\" alt=\"").Append(Html.Escape(Path.GetFileName(cell.ImagePath))).Append("\" style=\"max-width:100%\">");
            else
                sb.Append("<div style=\"height:").Append(Size).Append("px;background:#eee\">unreadable</div>");
            sb.Append("<figcaption title=\"").Append(Html.Escape(cell.ImagePath)).Append("\">")
              .Append(Html.Escape(Path.GetFileName(cell.ImagePath))).Append("<br>").Append(Html.Escape(cell.Label)).Append("</figcaption></figure>");
        }
        sb.Append("</div>");
        return sb.ToString();
    }
}
