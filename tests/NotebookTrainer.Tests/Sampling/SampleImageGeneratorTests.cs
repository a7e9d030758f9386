using NotebookTrainer.Sampling;
using NotebookTrainer.Tests.SafeTensors;
using SkiaSharp;

namespace NotebookTrainer.Tests.Sampling;

public class SampleImageGeneratorTests
{
    static readonly SamplePrompt Prompt = new("sks shape, red circle") { Width = 128, Height = 96, Steps = 3, NegativePrompt = "blurry", CfgScale = 5 };

    [Fact]
    public void WritesKohyaNamedPngsWithThePromptSize()
    {
        using var tiny = new TinyPipeline();
        using var dir = new TempDir();
        var generator = new SampleImageGenerator(tiny.Pipeline);
        var set = generator.Run([Prompt, Prompt with { Prompt = "blue star", Width = 64, Height = 64, Sampler = "euler_a" }],
            new SampleRunOptions(dir.Path, "mylora", 3) { Seed = 100 });
        Assert.Equal(2, set.Images.Count);
        Assert.Equal("euler_a", set.Images[1].Sampler);
        Assert.Equal("ddim", set.Images[0].Sampler);
        Assert.Equal(100, set.Images[0].Seed);
        Assert.Equal(101, set.Images[1].Seed);
        var files = Directory.GetFiles(Path.Combine(dir.Path, "sample")).Order().ToArray();
        Assert.Equal(2, files.Length);
        Assert.Matches(@"mylora_000003_00_\d{14}\.png$", files[0]);
        Assert.Matches(@"mylora_000003_01_\d{14}\.png$", files[1]);
        using var first = SKBitmap.Decode(files[0]);
        Assert.Equal((128, 96), (first.Width, first.Height));
        Assert.Contains("data:image/png;base64,", set.ToHtml());
    }

    [Fact]
    public void SameSeedSameImageAndLoraWeightChangesIt()
    {
        using var tiny = new TinyPipeline();
        var generator = new SampleImageGenerator(tiny.Pipeline);
        var a = generator.GeneratePng(Prompt, 7, "euler_a", 3);
        var b = generator.GeneratePng(Prompt, 7, "euler_a", 3);
        var c = generator.GeneratePng(Prompt, 8, "euler_a", 3);
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);

        using var lora = tiny.RandomLora(5);
        var options = new SampleRunOptions("", "x", 1) { WriteFiles = false, Seed = 7, Sampler = "euler_a" };
        var atZero = generator.Run([Prompt], options, [(lora, 0f)]).Images[0].Png;
        var atOne = generator.Run([Prompt], options, [(lora, 1f)]).Images[0].Png;
        var afterwards = generator.GeneratePng(Prompt, 7, "euler_a", 3);
        Assert.Equal(a, atZero);
        Assert.NotEqual(a, atOne);
        Assert.Equal(a, afterwards);   // the LoRA is detached again after the run
    }

    [Fact]
    public void A_batch_matches_one_image_at_a_time_with_a_deterministic_sampler()
    {
        using var tiny = new TinyPipeline();
        var generator = new SampleImageGenerator(tiny.Pipeline);
        var other = Prompt with { Prompt = "sks, blue square, black background" };
        using var batch = generator.GenerateBatch([(Prompt, 7), (other, 9)], "ddim", 4);
        using var first = generator.Generate(Prompt, 7, "ddim", 4);
        using var second = generator.Generate(other, 9, "ddim", 4);
        Assert.Equal(new long[] { 2, 3, Prompt.Height, Prompt.Width }, batch.shape);
        Assert.True(batch[0].allclose(first[0], rtol: 1e-4, atol: 1e-4));
        Assert.True(batch[1].allclose(second[0], rtol: 1e-4, atol: 1e-4));
        Assert.False(batch[0].allclose(batch[1], rtol: 1e-2, atol: 1e-2));
        Assert.Throws<ArgumentException>(() => generator.GenerateBatch([(Prompt, 1), (Prompt with { Width = Prompt.Width * 2 }, 2)], "ddim", 2));
    }

    [Fact]
    public void GridsComposeEpochByPromptAndWeightByEpoch()
    {
        using var tiny = new TinyPipeline();
        using var dir = new TempDir();
        var generator = new SampleImageGenerator(tiny.Pipeline);
        var prompts = new[] { Prompt with { Width = 64, Height = 64 }, Prompt with { Prompt = "green square", Width = 64, Height = 64 } };
        foreach (var epoch in new[] { 1, 2, 3 })
            generator.Run(prompts, new SampleRunOptions(dir.Path, "run", epoch) { Seed = 1, Steps = 2 });
        File.WriteAllBytes(Path.Combine(dir.Path, "sample", "other_000001_00_20260101000000.png"), File.ReadAllBytes(Directory.GetFiles(Path.Combine(dir.Path, "sample"))[0]));
        var grid = SampleGrid.EpochByPrompt(Path.Combine(dir.Path, "sample"), "run", prompts.Select(p => p.Prompt).ToList(), cellSize: 64);
        Assert.Equal(["epoch 1", "epoch 2", "epoch 3"], grid.RowLabels);
        Assert.Equal(["sks shape, red circle", "green square"], grid.ColumnLabels);
        using (var bitmap = SKBitmap.Decode(grid.Png))
            Assert.Equal((grid.Width, grid.Height), (bitmap.Width, bitmap.Height));
        Assert.Contains("epoch &#215; prompt", grid.ToHtml());

        using var lora1 = tiny.RandomLora(1);
        using var lora2 = tiny.RandomLora(2);
        var xy = LoraXYPlot.WeightByEpoch(generator, prompts[0], 3, "ddim", 2, [("epoch 1", lora1), ("epoch 2", lora2)], [0f, 0.5f, 1f]);
        Assert.Equal(2, xy.RowLabels.Count);
        Assert.Equal(["weight 0", "weight 0.5", "weight 1"], xy.ColumnLabels);
        Assert.Throws<FileNotFoundException>(() => SampleGrid.EpochByPrompt(Path.Combine(dir.Path, "sample"), "missing"));
    }

    [Fact]
    public void Long_column_labels_wrap_after_commas_into_more_header_lines_instead_of_being_cut()
    {
        using var blank = new SKBitmap(8, 8);
        var white = ImageTensors.ToPng(blank);
        SampleGrid Grid(string label) => SampleGrid.Compose("t", ["row"], [label], (_, _) => white, cellSize: 128);
        var oneLine = Grid("sks, purple heart");
        var wrapped = Grid("sks, purple heart, gradient background");
        var capped = Grid("sks, purple heart, two shapes, gradient background, and more tags than three lines hold");
        Assert.True(wrapped.Height > oneLine.Height, $"{wrapped.Height} vs {oneLine.Height}");
        Assert.True(capped.Height - oneLine.Height <= 2 * 17 + 1, $"at most three lines: {capped.Height} vs {oneLine.Height}");
        Assert.Equal(oneLine.Width, capped.Width);
    }

    [Fact]
    public void HtmlEscapesPromptText()
    {
        var image = new GeneratedImage(new SamplePrompt("<script>alert(1)</script>"), 1, "ddim", 1, [1, 2, 3]);
        Assert.DoesNotContain("<script>", image.ToHtml());
    }

    [Fact]
    public void SampleFileNamesRoundTripAndReadKohyaVariants()
    {
        var name = SampleFileName.Format("my_lora", 12, 3, new DateTime(2026, 1, 2, 3, 4, 5));
        Assert.Equal("my_lora_000012_03_20260102030405.png", name);
        Assert.True(SampleFileName.TryParse(name, out var output, out var epoch, out var index, out _));
        Assert.Equal(("my_lora", 12, 3), (output, epoch, index));
        Assert.True(SampleFileName.TryParse("x_e000004_01_20260102030405_42.png", out output, out epoch, out index, out _));
        Assert.Equal(("x", 4, 1), (output, epoch, index));
        Assert.False(SampleFileName.TryParse("x_4_1.png", out _, out _, out _, out _));
    }
}
