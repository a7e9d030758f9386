using NotebookTrainer.Curation;
using NotebookTrainer.Images;
using SkiaSharp;

namespace NotebookTrainer.Tests.Curation;

public sealed class ImageChecksTests : IDisposable
{
    readonly string dir = Path.Combine(Path.GetTempPath(), $"nt-checks-{Guid.NewGuid():N}");

    public ImageChecksTests() => Directory.CreateDirectory(dir);
    public void Dispose() => Directory.Delete(dir, recursive: true);

    static byte[] Draw(int w, int h, SKColor shape, byte alpha = 255, SKEncodedImageFormat format = SKEncodedImageFormat.Png, int seed = 0)
    {
        using var surface = SKSurface.Create(new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        surface.Canvas.Clear(new SKColor(255, 255, 255, alpha));
        // A random block composition per seed, so different seeds give clearly different difference hashes.
        var rng = new Random(seed);
        for (var k = 0; k < 12; k++)
        {
            using var paint = new SKPaint { Color = k == 0 ? shape : new SKColor((byte)rng.Next(256), (byte)rng.Next(256), (byte)rng.Next(256), alpha) };
            surface.Canvas.DrawRect((float)rng.NextDouble() * w, (float)rng.NextDouble() * h, (float)rng.NextDouble() * w / 2, (float)rng.NextDouble() * h / 2, paint);
        }
        using var image = surface.Snapshot();
        using var data = image.Encode(format, 90);
        return data.ToArray();
    }

    [Fact]
    public void Finds_duplicates_size_problems_transparency_and_unreadable_files()
    {
        var original = Draw(600, 600, SKColors.Red);
        File.WriteAllBytes(Path.Combine(dir, "a.png"), original);
        File.WriteAllBytes(Path.Combine(dir, "a copy.png"), original);
        File.WriteAllBytes(Path.Combine(dir, "a reencoded.jpg"), Draw(600, 600, SKColors.Red, format: SKEncodedImageFormat.Jpeg, seed: 0));
        File.WriteAllBytes(Path.Combine(dir, "different.png"), Draw(600, 600, SKColors.Blue, seed: -150));
        File.WriteAllBytes(Path.Combine(dir, "small.png"), Draw(200, 300, SKColors.Green, seed: 40));
        File.WriteAllBytes(Path.Combine(dir, "big.png"), Draw(1200, 1100, SKColors.Yellow, seed: 500));
        File.WriteAllBytes(Path.Combine(dir, "clear.png"), Draw(600, 520, SKColors.Black, alpha: 0, seed: -200));
        File.WriteAllText(Path.Combine(dir, "broken.png"), "this is not a png");

        var report = ImageChecks.Run(dir, new ImageCheckOptions { TrainingResolution = 512, LargePixels = 1_000_000 });

        var exact = Assert.Single(report.ExactDuplicates);
        Assert.Equal(["a copy.png", "a.png"], exact.Select(i => Path.GetFileName(i.Path)).Order());
        var near = Assert.Single(report.NearDuplicates);
        Assert.Contains(near, i => i.Path.EndsWith("a reencoded.jpg"));
        Assert.DoesNotContain(near, i => i.Path.EndsWith("different.png"));
        Assert.Equal(["small.png"], report.TooSmall.Select(i => Path.GetFileName(i.Path)));
        Assert.Equal(["big.png"], report.VeryLarge.Select(i => Path.GetFileName(i.Path)));
        Assert.Equal(["clear.png"], report.Transparent.Select(i => Path.GetFileName(i.Path)));
        var bad = Assert.Single(report.Unreadable);
        Assert.Contains("broken.png", bad.Reason);

        var html = report.ToHtml();
        Assert.Contains("data:image/jpeg;base64,", html);
        Assert.Contains("a reencoded.jpg", html);
        Assert.Single(report.RedundantCopies);
    }

    [Fact]
    public void Trash_moves_images_with_their_captions_and_restores_them()
    {
        File.WriteAllBytes(Path.Combine(dir, "x.png"), Draw(64, 64, SKColors.Red));
        File.WriteAllText(Path.Combine(dir, "x.txt"), "red");
        File.WriteAllText(Path.Combine(dir, "xy.txt"), "unrelated");

        var batch = Trash.Move(dir, [Path.Combine(dir, "x.png")]);
        Assert.Equal(2, batch.Files.Count);
        Assert.False(File.Exists(Path.Combine(dir, "x.png")));
        Assert.False(File.Exists(Path.Combine(dir, "x.txt")));
        Assert.True(File.Exists(Path.Combine(dir, "xy.txt")));
        Assert.StartsWith(Path.Combine(dir, Trash.FolderName), batch.Directory);
        Assert.Empty(ImageFiles.Enumerate(dir, recursive: true));

        Trash.Restore(batch.Directory);
        Assert.Equal("red", File.ReadAllText(Path.Combine(dir, "x.txt")));
        Assert.True(File.Exists(Path.Combine(dir, "x.png")));
    }
}
