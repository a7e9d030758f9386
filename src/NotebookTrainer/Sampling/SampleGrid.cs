using NotebookTrainer.Display;
using NotebookTrainer.IO;
using SkiaSharp;

namespace NotebookTrainer.Sampling;

/// <summary>
/// A labelled image grid as one PNG: epoch × prompt from a run's sample folder, or any X/Y plot (LoRA weight ×
/// epoch). Missing cells stay blank. Shows inline as a PNG data URI.
/// </summary>
public sealed class SampleGrid : IHtmlRenderable
{
    const int LabelHeight = 28;
    const int LineHeight = 17;
    const int MaxLabelLines = 3;
    const int Margin = 4;

    SampleGrid(string title, IReadOnlyList<string> rows, IReadOnlyList<string> columns, byte[] png, int width, int height)
    {
        Title = title;
        RowLabels = rows;
        ColumnLabels = columns;
        Png = png;
        Width = width;
        Height = height;
    }

    public string Title { get; }
    public IReadOnlyList<string> RowLabels { get; }
    public IReadOnlyList<string> ColumnLabels { get; }
    public byte[] Png { get; }
    public int Width { get; }
    public int Height { get; }

    /// <param name="cell">PNG bytes for (row, column), or null for a blank cell.</param>
    /// <param name="cellSize">Each image is scaled to fit a square of this side.</param>
    public static SampleGrid Compose(string title, IReadOnlyList<string> rowLabels, IReadOnlyList<string> columnLabels, Func<int, int, byte[]?> cell, int cellSize = 192)
    {
        if (rowLabels.Count == 0 || columnLabels.Count == 0)
            throw new ArgumentException($"a grid needs at least one row and one column; got {rowLabels.Count}×{columnLabels.Count}.");
        using var font = new SKFont(SKTypeface.Default, 14);
        using var textPaint = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        var rowLabelWidth = (int)Math.Ceiling(rowLabels.Max(l => font.MeasureText(l, textPaint))) + 2 * Margin;
        var columnLines = columnLabels.Select(l => Wrap(l, cellSize, font, textPaint)).ToList();
        var header = LabelHeight + columnLines.Max(l => l.Count) * LineHeight + 8;
        var width = rowLabelWidth + columnLabels.Count * (cellSize + Margin) + Margin;
        var height = header + rowLabels.Count * (cellSize + Margin) + Margin;
        using var bitmap = new SKBitmap(width, height);
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(SKColors.White);
            canvas.DrawText(title, Margin, LabelHeight - 8, SKTextAlign.Left, font, textPaint);
            for (var c = 0; c < columnLabels.Count; c++)
            {
                var x = rowLabelWidth + c * (cellSize + Margin) + cellSize / 2f;
                for (var line = 0; line < columnLines[c].Count; line++)
                    canvas.DrawText(columnLines[c][line], x, LabelHeight + (line + 1) * LineHeight, SKTextAlign.Center, font, textPaint);
            }
            var sampling = new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear);
            for (var r = 0; r < rowLabels.Count; r++)
            {
                var top = header + r * (cellSize + Margin);
                canvas.DrawText(rowLabels[r], Margin, top + cellSize / 2f, SKTextAlign.Left, font, textPaint);
                for (var c = 0; c < columnLabels.Count; c++)
                {
                    if (cell(r, c) is not { } png) continue;
                    using var image = SKImage.FromEncodedData(png) ?? throw new InvalidDataException($"grid cell ({rowLabels[r]}, {columnLabels[c]}) is not a decodable image.");
                    var scale = Math.Min((float)cellSize / image.Width, (float)cellSize / image.Height);
                    var (w, h) = (image.Width * scale, image.Height * scale);
                    var left = rowLabelWidth + c * (cellSize + Margin) + (cellSize - w) / 2;
                    canvas.DrawImage(image, SKRect.Create(left, top + (cellSize - h) / 2, w, h), sampling);
                }
            }
        }
        return new SampleGrid(title, rowLabels, columnLabels, Sampling.ImageTensors.ToPng(bitmap), width, height);
    }

    /// <summary>
    /// Epoch × prompt from <c>{dir}</c> (a run's <c>sample</c> folder): rows are epochs, columns prompt indices,
    /// the newest file per cell wins. <paramref name="outputName"/> null takes every output name in the folder.
    /// </summary>
    public static SampleGrid EpochByPrompt(string sampleDir, string? outputName = null, IReadOnlyList<string>? promptLabels = null, int cellSize = 192)
    {
        if (!Directory.Exists(sampleDir))
            throw new DirectoryNotFoundException($"sample folder {sampleDir} does not exist; sampling writes to <output_dir>/sample (set sample_every_n_epochs and sample_prompts).");
        var cells = new Dictionary<(int Epoch, int Index), (string Time, string Path)>();
        foreach (var file in Directory.EnumerateFiles(sampleDir, "*.png"))
        {
            if (!SampleFileName.TryParse(file, out var name, out var epoch, out var index, out var time)) continue;
            if (outputName is not null && name != outputName) continue;
            if (!cells.TryGetValue((epoch, index), out var existing) || string.CompareOrdinal(time, existing.Time) > 0)
                cells[(epoch, index)] = (time, file);
        }
        if (cells.Count == 0)
            throw new FileNotFoundException($"no sample images named {outputName ?? "<output_name>"}_<epoch>_<idx>_<timestamp>.png in {sampleDir}.");
        var epochs = cells.Keys.Select(k => k.Epoch).Distinct().Order().ToList();
        var indices = cells.Keys.Select(k => k.Index).Distinct().Order().ToList();
        var columns = indices.Select(i => promptLabels is not null && i < promptLabels.Count ? promptLabels[i] : $"prompt {i}").ToList();
        return Compose($"{outputName ?? "samples"}: epoch × prompt", epochs.Select(e => $"epoch {e}").ToList(), columns,
            (r, c) => cells.TryGetValue((epochs[r], indices[c]), out var f) ? File.ReadAllBytes(f.Path) : null, cellSize);
    }

    public void Save(string path) => AtomicFile.WriteAllBytes(path, Png);

    public string ToHtml() =>
        $"<figure class=\"nt-grid\"><img src=\"data:image/png;base64,{Convert.ToBase64String(Png)}\" alt=\"{Html.Escape(Title)}\"/>" +
        $"<figcaption>{Html.Escape(Title)} ({RowLabels.Count}×{ColumnLabels.Count})</figcaption></figure>";

    /// <summary>
    /// A column label in at most <see cref="MaxLabelLines"/> lines no wider than the cell, broken after commas (a
    /// prompt's tags) or spaces; what still does not fit ends in "…".
    /// </summary>
    static IReadOnlyList<string> Wrap(string label, int width, SKFont font, SKPaint paint)
    {
        var words = System.Text.RegularExpressions.Regex.Split(label, @"(?<=[, ])").Where(w => w.Length > 0).ToList();
        var lines = new List<string>();
        var current = "";
        foreach (var word in words)
        {
            if (current.Length > 0 && font.MeasureText((current + word).TrimEnd(), paint) > width)
            {
                lines.Add(current.TrimEnd());
                current = "";
            }
            current += word;
        }
        lines.Add(current.TrimEnd());
        if (lines.Count > MaxLabelLines) lines = [.. lines.Take(MaxLabelLines - 1), string.Join(" ", lines.Skip(MaxLabelLines - 1))];
        return lines.Select(l => Fit(l, width, font, paint)).ToList();
    }

    static string Fit(string label, int width, SKFont font, SKPaint paint)
    {
        if (font.MeasureText(label, paint) <= width) return label;
        var text = label;
        while (text.Length > 1 && font.MeasureText(text + "…", paint) > width) text = text[..^1];
        return text + "…";
    }
}
