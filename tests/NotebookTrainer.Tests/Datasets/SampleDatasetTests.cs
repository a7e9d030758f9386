using System.Security.Cryptography;
using NotebookTrainer.Datasets;
using NotebookTrainer.World;
using SkiaSharp;

namespace NotebookTrainer.Tests.Datasets;

public sealed class SampleDatasetTests : IDisposable
{
    readonly string root = Path.Combine(Path.GetTempPath(), "nt-sample-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
    }

    [Fact]
    public void Writes_decodable_pngs_of_the_reported_size_with_matching_captions()
    {
        var images = SampleDataset.Generate(Path.Combine(root, "a"));

        Assert.Equal(SampleDataset.DefaultCount, images.Count);
        foreach (var image in images)
        {
            Assert.Equal(SampleDataset.FolderName, Path.GetFileName(Path.GetDirectoryName(image.Path)));
            using var bitmap = SKBitmap.Decode(image.Path);
            Assert.NotNull(bitmap);
            Assert.Equal((image.Width, image.Height), (bitmap.Width, bitmap.Height));
            var caption = File.ReadAllText(Path.ChangeExtension(image.Path, ".txt")).TrimEnd('\n');
            Assert.Equal(SampleDataset.CaptionFor(image.Tags), caption);
            Assert.StartsWith("sks, ", caption);
            Assert.All(image.Tags, t => Assert.Contains(t, SampleDataset.AllTags));
        }
    }

    [Fact]
    public void Default_set_is_the_held_out_concept_on_every_background_in_several_aspect_ratios()
    {
        var images = SampleDataset.Generate(root);

        var used = images.SelectMany(i => i.Tags).ToHashSet();
        Assert.Equal(SampleDataset.AllTags.ToHashSet(), used);
        Assert.All(images, i => Assert.Equal("purple_heart", i.Tags[0]));
        Assert.True(images.Select(i => (double)i.Width / i.Height).Distinct().Count() >= 5);
        Assert.Contains(images, i => i.Width * i.Height < 256 * 256);
    }

    [Fact]
    public void Same_seed_gives_byte_identical_files_and_another_seed_differs()
    {
        var a = SampleDataset.Generate(Path.Combine(root, "a"), seed: 7, count: 9);
        var b = SampleDataset.Generate(Path.Combine(root, "b"), seed: 7, count: 9);
        var c = SampleDataset.Generate(Path.Combine(root, "c"), seed: 8, count: 9);

        Assert.Equal(a.Select(i => Hash(i.Path)), b.Select(i => Hash(i.Path)));
        Assert.Equal(a.Select(i => Hash(Path.ChangeExtension(i.Path, ".txt"))), b.Select(i => Hash(Path.ChangeExtension(i.Path, ".txt"))));
        Assert.NotEqual(a.Select(i => Hash(i.Path)), c.Select(i => Hash(i.Path)));
    }

    [Fact]
    public void A_single_heart_image_is_mostly_the_concept_colour_on_its_background()
    {
        var image = SampleDataset.Generate(root, count: 40).First(i => i.Tags.Count == 2 && i.Width == i.Height);
        using var bitmap = SKBitmap.Decode(image.Path);
        Assert.Contains(image.Tags[1], new[] { "white_background", "black_background", "gradient_background" });
        var purple = NotebookTrainer.World.WorldAttributes.ColourOf("purple");
        var found = Enumerable.Range(0, bitmap.Height).SelectMany(y => Enumerable.Range(0, bitmap.Width).Select(x => bitmap.GetPixel(x, y))).Count(p => p == purple);
        Assert.True(found > bitmap.Width * bitmap.Height / 20, $"{found} purple pixels");
    }

    static string Hash(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)));
}
