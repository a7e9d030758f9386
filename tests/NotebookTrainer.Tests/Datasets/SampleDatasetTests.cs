using System.Security.Cryptography;
using NotebookTrainer.Datasets;
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
    public void Default_set_covers_every_tag_and_several_aspect_ratios()
    {
        var images = SampleDataset.Generate(root);

        var used = images.SelectMany(i => i.Tags).ToHashSet();
        Assert.Equal(SampleDataset.AllTags.ToHashSet(), used);
        Assert.True(images.Select(i => (double)i.Width / i.Height).Distinct().Count() >= 5);
        Assert.Contains(images, i => i.Width * i.Height < 256 * 256);
        var words = images.SelectMany(i => SampleDataset.CaptionFor(i.Tags).Split([", ", " "], StringSplitOptions.None)).ToHashSet();
        Assert.Equal(SampleDataset.Vocabulary.ToHashSet(), words);
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
    public void Draws_the_tagged_colour_at_the_centre_of_a_single_shape_image()
    {
        var image = SampleDataset.Generate(root, count: 1)[0];
        Assert.Equal(["red_circle", "white_background"], image.Tags);
        using var bitmap = SKBitmap.Decode(image.Path);
        var centre = bitmap.GetPixel(bitmap.Width / 2, bitmap.Height / 2);
        Assert.True(centre.Red > 180 && centre.Green < 80 && centre.Blue < 80, $"centre pixel {centre}");
        Assert.Equal(SKColors.White, bitmap.GetPixel(1, 1));
    }

    static string Hash(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)));
}
