using System.Numerics;
using System.Security.Cryptography;
using NotebookTrainer.Images;
using NotebookTrainer.Progress;
using SkiaSharp;

namespace NotebookTrainer.Curation;

public sealed record ImageCheckOptions
{
    public int TrainingResolution { get; init; } = 512;
    /// <summary>
    /// Images with fewer pixels than this fraction of TrainingResolution² are flagged as too small: kohya's bucketing
    /// upscales them (a few percent, as for 640×384 at 512, is harmless).
    /// </summary>
    public double SmallAreaFraction { get; init; } = 0.75;
    /// <summary>Images above this many pixels are flagged as very large (slow to cache, usually worth downscaling).</summary>
    public long LargePixels { get; init; } = 4096L * 4096;
    /// <summary>Maximum Hamming distance between 64-bit perceptual hashes for two images to count as near-duplicates.</summary>
    public int NearDuplicateDistance { get; init; } = 8;
    public bool Recursive { get; init; }
}

/// <summary>What was measured for one readable image.</summary>
public sealed record CheckedImage(string Path, int Width, int Height, long Bytes, string Sha256, ulong PerceptualHash, SKColor AverageColour, bool HasTransparency);

/// <summary>Checks a folder before tagging: exact and near duplicates, size problems, transparency and unreadable files.</summary>
public static class ImageChecks
{
    public static ImageCheckReport Run(string folder, ImageCheckOptions? options = null, IProgress<ProgressUpdate>? progress = null, CancellationToken cancellationToken = default)
    {
        options ??= new ImageCheckOptions();
        var files = ImageFiles.Enumerate(folder, options.Recursive);
        var tracker = new ProgressTracker("image checks", files.Count, progress);
        var images = new CheckedImage?[files.Count];
        var errors = new string?[files.Count];
        Parallel.For(0, files.Count, new ParallelOptions { CancellationToken = cancellationToken }, i =>
        {
            try { images[i] = Inspect(files[i]); }
            catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException) { errors[i] = e.Message; }
            lock (tracker) tracker.Advance(1, System.IO.Path.GetFileName(files[i]));
        });

        var ok = images.OfType<CheckedImage>().ToList();
        var unreadable = files.Select((f, i) => (f, errors[i])).Where(p => p.Item2 is not null).Select(p => new UnreadableImage(p.f, p.Item2!)).ToList();
        var exact = ok.GroupBy(i => i.Sha256).Where(g => g.Count() > 1).Select(g => (IReadOnlyList<CheckedImage>)g.ToList()).ToList();
        var near = NearDuplicateGroups(ok, options.NearDuplicateDistance);
        var minPixels = options.SmallAreaFraction * options.TrainingResolution * options.TrainingResolution;
        return new ImageCheckReport(System.IO.Path.GetFullPath(folder), options, ok, exact, near,
            ok.Where(i => (long)i.Width * i.Height < minPixels).ToList(),
            ok.Where(i => (long)i.Width * i.Height > options.LargePixels).ToList(),
            ok.Where(i => i.HasTransparency).ToList(),
            unreadable);
    }

    public static CheckedImage Inspect(string path)
    {
        var bytes = ImageFiles.ReadBytes(path);
        using var bitmap = ImageFiles.Decode(bytes, path);
        return new CheckedImage(path, bitmap.Width, bitmap.Height, bytes.LongLength, Convert.ToHexStringLower(SHA256.HashData(bytes)),
            PerceptualHash(bitmap), AverageColour(bitmap), HasTransparency(bitmap));
    }

    /// <summary>
    /// pHash: shrink to 32×32 grey (on white), take the 2-D DCT, and set one bit per low-frequency coefficient
    /// (the 8×8 block without the DC term) that lies above the block's median. Robust to re-encoding and small
    /// resizes, and unlike a difference hash it still separates images that are mostly flat colour.
    /// </summary>
    public static ulong PerceptualHash(SKBitmap bitmap)
    {
        const int n = 32;
        using var small = new SKBitmap(new SKImageInfo(n, n, SKColorType.Gray8, SKAlphaType.Opaque));
        using (var canvas = new SKCanvas(small))
        using (var image = SKImage.FromBitmap(bitmap))
        {
            canvas.Clear(SKColors.White);
            canvas.DrawImage(image, new SKRect(0, 0, n, n), new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear));
        }
        var px = small.GetPixelSpan();
        var rowBytes = small.RowBytes;
        var cos = new double[8, n];
        for (var u = 0; u < 8; u++)
            for (var x = 0; x < n; x++) cos[u, x] = Math.Cos((2 * x + 1) * u * Math.PI / (2 * n));
        var rows = new double[8, n];
        for (var u = 0; u < 8; u++)
            for (var y = 0; y < n; y++)
            {
                double s = 0;
                for (var x = 0; x < n; x++) s += px[y * rowBytes + x] * cos[u, x];
                rows[u, y] = s;
            }
        var coefficients = new double[64];
        for (var v = 0; v < 8; v++)
            for (var u = 0; u < 8; u++)
            {
                double s = 0;
                for (var y = 0; y < n; y++) s += rows[u, y] * cos[v, y];
                coefficients[v * 8 + u] = s;
            }
        var median = coefficients.Skip(1).Order().ElementAt(31);
        ulong hash = 0;
        for (var k = 0; k < 64; k++) hash = (hash << 1) | (k > 0 && coefficients[k] > median ? 1UL : 0UL);
        return hash;
    }

    /// <summary>The mean colour (on white): pHash sees only grey levels, so a recoloured copy of a layout is not a near-duplicate.</summary>
    static SKColor AverageColour(SKBitmap bitmap)
    {
        using var one = new SKBitmap(new SKImageInfo(1, 1, SKColorType.Rgba8888, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(one))
        using (var image = SKImage.FromBitmap(bitmap))
        {
            canvas.Clear(SKColors.White);
            canvas.DrawImage(image, new SKRect(0, 0, 1, 1), new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear));
        }
        return one.GetPixel(0, 0);
    }

    static bool SimilarColour(SKColor a, SKColor b) =>
        Math.Abs(a.Red - b.Red) <= ColourTolerance && Math.Abs(a.Green - b.Green) <= ColourTolerance && Math.Abs(a.Blue - b.Blue) <= ColourTolerance;

    const int ColourTolerance = 24;

    static bool HasTransparency(SKBitmap bitmap)
    {
        if (bitmap.AlphaType == SKAlphaType.Opaque || bitmap.Info.IsOpaque) return false;
        using var rgba = bitmap.Copy(SKColorType.Rgba8888);
        var px = rgba.GetPixelSpan();
        for (var i = 3; i < px.Length; i += 4) if (px[i] != 255) return true;
        return false;
    }

    static List<IReadOnlyList<CheckedImage>> NearDuplicateGroups(List<CheckedImage> images, int maxDistance)
    {
        var parent = Enumerable.Range(0, images.Count).ToArray();
        int Find(int i) => parent[i] == i ? i : parent[i] = Find(parent[i]);
        for (var i = 0; i < images.Count; i++)
            for (var j = i + 1; j < images.Count; j++)
                if (images[i].Sha256 != images[j].Sha256 && BitOperations.PopCount(images[i].PerceptualHash ^ images[j].PerceptualHash) <= maxDistance
                    && SimilarColour(images[i].AverageColour, images[j].AverageColour))
                    parent[Find(i)] = Find(j);
        return Enumerable.Range(0, images.Count).GroupBy(Find)
            .Select(g => g.Select(i => images[i]).ToList())
            .Where(g => g.Select(i => i.Sha256).Distinct().Count() > 1)
            .Select(g => (IReadOnlyList<CheckedImage>)g)
            .ToList();
    }
}

public sealed record UnreadableImage(string Path, string Reason);
