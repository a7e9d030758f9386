using System.Globalization;
using NotebookTrainer.IO;

namespace NotebookTrainer.World;

/// <summary>One generated image with its scene and ground-truth tags.</summary>
public sealed record WorldImage(string Path, int Width, int Height, Scene Scene)
{
    public IReadOnlyList<string> Tags => Scene.Tags;
}

/// <summary>
/// Writes scenes of the world as a kohya image folder: <c>000000.png</c> + <c>000000.txt</c> (the caption), the
/// same seed giving byte-identical files. Files that already hold the right bytes are left alone, so a
/// pretraining run that is resumed does not rewrite its data set.
/// </summary>
public static class WorldDataset
{
    /// <param name="sizes">Image sizes, cycled; square <paramref name="side"/> when null.</param>
    public static IReadOnlyList<WorldImage> Write(string folder, SceneOptions options, int count, int seed, int side = 64,
        IReadOnlyList<(int Width, int Height)>? sizes = null, string? activationTag = null, IProgress<Progress.ProgressUpdate>? progress = null,
        CancellationToken cancellationToken = default)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "count must be at least 1.");
        folder = System.IO.Path.GetFullPath(folder);
        Directory.CreateDirectory(folder);
        var sampler = new SceneSampler(options, seed);
        var tracker = new Progress.ProgressTracker("drawing images", count, progress);
        var digits = Math.Max(3, (count - 1).ToString(CultureInfo.InvariantCulture).Length);
        var images = new List<WorldImage>(count);
        for (var i = 0; i < count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (w, h) = sizes is null ? (side, side) : sizes[i % sizes.Count];
            var scene = sampler.Next((double)w / h);
            var stem = i.ToString(new string('0', digits), CultureInfo.InvariantCulture);
            var path = System.IO.Path.Combine(folder, stem + ".png");
            WriteIfChanged(path, SceneRenderer.RenderPng(scene, w, h));
            WriteIfChanged(System.IO.Path.Combine(folder, stem + ".txt"), System.Text.Encoding.UTF8.GetBytes(scene.Caption(activationTag) + "\n"));
            images.Add(new WorldImage(path, w, h, scene));
            tracker.Advance();
        }
        return images;
    }

    static void WriteIfChanged(string path, byte[] bytes)
    {
        if (File.Exists(path) && new FileInfo(path).Length == bytes.Length && File.ReadAllBytes(path).AsSpan().SequenceEqual(bytes)) return;
        AtomicFile.WriteAllBytes(path, bytes);
    }
}
