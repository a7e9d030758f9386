using System.Security.Cryptography;
using NotebookTrainer.World;
using SkiaSharp;

namespace NotebookTrainer.Tests.World;

public sealed class WorldTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("ntrain-world-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Theory]
    [InlineData(1.0)]
    [InlineData(1.5)]
    [InlineData(0.6)]
    public void Objects_stay_inside_the_image_and_two_never_overlap(double aspect)
    {
        var sampler = new SceneSampler(SceneOptions.Everything, 3);
        var (sx, sy) = aspect >= 1 ? (aspect, 1.0) : (1.0, 1 / aspect);
        for (var i = 0; i < 2000; i++)
        {
            var scene = sampler.Next(aspect);
            foreach (var o in scene.Objects)
            {
                Assert.InRange(o.X * sx, o.Radius - 1e-5, sx - o.Radius + 1e-5);
                Assert.InRange(o.Y * sy, o.Radius - 1e-5, sy - o.Radius + 1e-5);
            }
            if (scene.Objects.Count == 2)
            {
                var (a, b) = (scene.Objects[0], scene.Objects[1]);
                var distance = Math.Sqrt(Math.Pow((a.X - b.X) * sx, 2) + Math.Pow((a.Y - b.Y) * sy, 2));
                Assert.True(distance > a.Radius + b.Radius, $"objects overlap in scene {i}");
            }
        }
    }

    [Fact]
    public void Pretraining_scenes_never_hold_the_held_out_shape_or_colour_and_cover_everything_else()
    {
        var sampler = new SceneSampler(SceneOptions.Pretraining, 5);
        var scenes = Enumerable.Range(0, 3000).Select(_ => sampler.Next()).ToList();
        var objects = scenes.SelectMany(s => s.Objects).ToList();
        Assert.DoesNotContain(objects, o => o.Shape == WorldAttributes.HeldOutShape || o.Colour == WorldAttributes.HeldOutColour);
        Assert.Equal(WorldAttributes.SeenShapes.ToHashSet(), objects.Select(o => o.Shape).ToHashSet());
        Assert.Equal(WorldAttributes.SeenColours.ToHashSet(), objects.Select(o => o.Colour).ToHashSet());
        Assert.Equal(WorldAttributes.Backgrounds.ToHashSet(), scenes.Select(s => s.Background).ToHashSet());
        Assert.InRange(scenes.Count(s => s.Objects.Count == 2) / 3000.0, 0.2, 0.3);
        Assert.DoesNotContain(scenes, s => s.Caption().Contains("purple") || s.Caption().Contains("heart"));
    }

    [Fact]
    public void Captions_and_tags_are_booru_form_and_parse_back()
    {
        var scene = new Scene("gradient", [new SceneObject("star", "red", 0.3f, 0.5f, 0.15f), new SceneObject("heart", "purple", 0.7f, 0.5f, 0.15f)]);
        Assert.Equal(["red_star", "purple_heart", "two_shapes", "gradient_background"], scene.Tags);
        Assert.Equal("sks, red star, purple heart, two shapes, gradient background", scene.Caption("sks"));
        Assert.Equal(("purple", "heart", null), WorldAttributes.Parse("purple heart"));
        Assert.Equal((null, null, "black"), WorldAttributes.Parse("black_background"));
        Assert.Equal((null, null, null), WorldAttributes.Parse("two_shapes"));
        Assert.Equal(29, WorldAttributes.Tags.Count);
    }

    [Fact]
    public void Every_shape_is_drawn_in_its_colour_at_its_centre()
    {
        foreach (var shape in WorldAttributes.Shapes)
            foreach (var colour in WorldAttributes.Colours)
            {
                using var bitmap = SceneRenderer.Render(new Scene("black", [new SceneObject(shape, colour, 0.5f, 0.5f, 0.35f)]), 64, 64);
                Assert.Equal(WorldAttributes.ColourOf(colour), bitmap.GetPixel(32, 33));
                Assert.Equal(SKColors.Black, bitmap.GetPixel(1, 1));
            }
    }

    [Fact]
    public void The_shapes_differ_from_each_other()
    {
        var masks = WorldAttributes.Shapes.ToDictionary(s => s, s =>
        {
            using var bitmap = SceneRenderer.Render(new Scene("white", [new SceneObject(s, "red", 0.5f, 0.5f, 0.4f)]), 64, 64);
            return Enumerable.Range(0, 64 * 64).Select(p => bitmap.GetPixel(p % 64, p / 64).Green < 128).ToArray();
        });
        foreach (var a in WorldAttributes.Shapes)
            foreach (var b in WorldAttributes.Shapes.Where(b => string.CompareOrdinal(a, b) < 0))
                Assert.True(masks[a].Zip(masks[b]).Count(p => p.First != p.Second) > 150, $"{a} and {b} cover nearly the same pixels");
    }

    [Fact]
    public void Clutter_covers_the_whole_colour_range_for_the_vae()
    {
        var sampler = new SceneSampler(SceneOptions.Pretraining with { Clutter = 1 }, 9);
        var colours = Enumerable.Range(0, 500).SelectMany(_ => sampler.Next().Clutter).Select(c => c.Colour).ToList();
        Assert.Contains(colours, c => c.Red > 120 && c.Green < 80 && c.Blue > 160);   // purple-ish, for the codec only
        Assert.All(Enumerable.Range(0, 200).Select(_ => sampler.Next()), s => Assert.Empty(s.Objects));
    }

    [Fact]
    public void A_dataset_is_byte_identical_for_a_seed_and_untouched_when_written_again()
    {
        var a = WorldDataset.Write(Path.Combine(root, "a"), SceneOptions.Pretraining, 12, seed: 4);
        var b = WorldDataset.Write(Path.Combine(root, "b"), SceneOptions.Pretraining, 12, seed: 4);
        Assert.Equal(a.Select(i => Hash(i.Path)), b.Select(i => Hash(i.Path)));
        Assert.Equal(a.Select(i => i.Scene.Caption() + "\n"), a.Select(i => File.ReadAllText(Path.ChangeExtension(i.Path, ".txt"))));
        var written = File.GetLastWriteTimeUtc(a[0].Path);
        Thread.Sleep(20);
        WorldDataset.Write(Path.Combine(root, "a"), SceneOptions.Pretraining, 12, seed: 4);
        Assert.Equal(written, File.GetLastWriteTimeUtc(a[0].Path));
    }

    static string Hash(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)));
}
