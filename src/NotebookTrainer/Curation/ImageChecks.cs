using System.Numerics;
using System.Security.Cryptography;
using NotebookTrainer.Progress;
using SkiaSharp;

namespace NotebookTrainer.Curation;

public sealed record ImageCheckOptions
{
    /// <summary>Images with fewer pixels than TrainingResolution² would be upscaled by kohya's bucketing.</summary>
    public int TrainingResolution { get; init; } = 512;
    /// <summary>Images above this many pixels are flagged as very large (slow to cache, usually worth downscaling).</summary>
    public long LargePixels { get; init; } = 4096L * 4096;
    /// <summary>Maximum Hamming distance between 64-bit difference hashes for two images to count as near-duplicates.</summary>
    public int NearDuplicateDistance { get; init; } = 6;
    public bool Recursive { get; init; }
}

/// <summary>What was measured for one readable image.</summary>
public sealed record CheckedImage(string Path, int Width, int Height, long Bytes, string Sha256, ulong DifferenceHash, bool HasTransparency);

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
        var minPixels = (long)options.TrainingResolution * options.TrainingResolution;
        return new ImageCheckReport(System.IO.Path.GetFullPath(folder), options, ok, exact, near,
            ok.Where(i => (long)i.Width * i.Height < minPixels).ToList(),
            ok.Where(i => (long)i.Width * i.Height > options.LargePixels).ToList(),
            ok.Where(i => i.HasTransparency).ToList(),
            unreadable);
    }

    public static CheckedImage Inspect(string path)
    {
        var bytes = File.ReadAllBytes(path);
        using var bitmap = ImageFiles.Decode(bytes, path);
        return new CheckedImage(path, bitmap.Width, bitmap.Height, bytes.LongLength, Convert.ToHexStringLower(SHA256.HashData(bytes)),
            DifferenceHash(bitmap), HasTransparency(bitmap));
    }

    /// <summary>dHash: shrink to 9×8 grey, one bit per horizontally adjacent pair (left brighter than right).</summary>
    public static ulong DifferenceHash(SKBitmap bitmap)
    {
        using var small = new SKBitmap(new SKImageInfo(9, 8, SKColorType.Gray8, SKAlphaType.Opaque));
        using (var canvas = new SKCanvas(small))
        using (var image = SKImage.FromBitmap(bitmap))
        {
            canvas.Clear(SKColors.White);
            canvas.DrawImage(image, new SKRect(0, 0, 9, 8), new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear));
        }
        var px = small.GetPixelSpan();
        var rowBytes = small.RowBytes;
        ulong hash = 0;
        for (var y = 0; y < 8; y++)
            for (var x = 0; x < 8; x++)
                hash = (hash << 1) | (px[y * rowBytes + x] > px[y * rowBytes + x + 1] ? 1UL : 0UL);
        return hash;
    }

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
                if (images[i].Sha256 != images[j].Sha256 && BitOperations.PopCount(images[i].DifferenceHash ^ images[j].DifferenceHash) <= maxDistance)
                    parent[Find(i)] = Find(j);
        return Enumerable.Range(0, images.Count).GroupBy(Find)
            .Select(g => g.Select(i => images[i]).ToList())
            .Where(g => g.Select(i => i.Sha256).Distinct().Count() > 1)
            .Select(g => (IReadOnlyList<CheckedImage>)g)
            .ToList();
    }
}

public sealed record UnreadableImage(string Path, string Reason);
