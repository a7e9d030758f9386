using NotebookTrainer.Datasets.Config;
using NotebookTrainer.Datasets;
using NotebookTrainer.Diffusion;
using NotebookTrainer.Training;
using SkiaSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.Tests.Training;

[Collection(TorchRandom.Collection)]
public sealed class AlphaMaskTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("ntrain-alpha-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    /// <summary>128×128 RGBA PNGs in a kohya folder, alpha from <paramref name="alphaAt"/>(x, y), captioned.</summary>
    DatasetPlan Plan(Func<int, int, byte> alphaAt, int images = 2)
    {
        var folder = Directory.CreateDirectory(Path.Combine(dir, "data", "1_sks shape")).FullName;
        for (var i = 0; i < images; i++)
        {
            using var bitmap = new SKBitmap(new SKImageInfo(128, 128, SKColorType.Rgba8888, SKAlphaType.Unpremul));
            for (var y = 0; y < 128; y++)
                for (var x = 0; x < 128; x++)
                    bitmap.SetPixel(x, y, new SKColor((byte)(x * 2), (byte)(y * 2), (byte)(40 * i), alphaAt(x, y)));
            using (var file = File.Create(Path.Combine(folder, $"{i:000}.png")))
                bitmap.Encode(file, SKEncodedImageFormat.Png, 100);
            File.WriteAllText(Path.Combine(folder, $"{i:000}.txt"), "sks, shape");
        }
        var config = DatasetConfig.FromFolders(Path.Combine(dir, "data"), null,
            new DatasetArguments { Resolution = 64, BatchSize = 2, CaptionExtension = ".txt", AlphaMask = true });
        return DatasetPlan.Build(config);
    }

    [Fact]
    public void The_mask_follows_the_image_through_resize_crop_and_flip()
    {
        // Left half transparent, right half opaque; one column of 50% at the border pair so the 2× area shrink shows.
        var plan = Plan((x, _) => x < 64 ? (byte)0 : x < 66 ? (byte)128 : (byte)255, images: 1);
        var batch = plan.BatchesForEpoch(1).Single();
        var sample = batch.Samples.Single();
        Assert.True(sample.Subset.AlphaMask);
        var (pixels, mask) = LatentCache.TrainingPixelsAndMask(sample, batch.Resolution, flip: false, new Random(0));
        Assert.Equal(new long[] { 3, 64, 64 }, pixels.shape);
        Assert.Equal(new long[] { 64, 64 }, mask!.shape);
        Assert.Equal(0f, mask[10, 31].item<float>());
        Assert.Equal(128 / 255f, mask[10, 32].item<float>(), 6);   // cv2 INTER_AREA of two 128 columns
        Assert.Equal(1f, mask[10, 33].item<float>());
        var (_, flipped) = LatentCache.TrainingPixelsAndMask(sample, batch.Resolution, flip: true, new Random(0));
        Assert.True(flipped!.allclose(mask.flip(1), 0, 0));
    }

    [Fact]
    public void Masked_pixels_add_nothing_to_the_loss()
    {
        using var schedule = new ForwardDiffusion();
        using var prediction = ones(1, 4, 4, 4);
        using var target = zeros(1, 4, 4, 4);
        using var t = tensor(new long[] { 500 });
        using var weights = ones(1);
        using var mask = zeros(1, 8, 8);
        mask.narrow(2, 4, 4).fill_(1);   // right half of the image
        using var loss = DiffusionLoss.Compute(prediction, target, t, weights, schedule, alphaMasks: mask);
        Assert.Equal(0.5f, loss.item<float>(), 6);   // sd-scripts does not renormalise by the mask area
    }

    [Fact]
    public void A_fully_transparent_dataset_trains_nothing()
    {
        var plan = Plan((_, _) => 0);
        var output = Path.Combine(dir, "out");
        using var models = TinyTrainingSetup.Models();
        using var trainer = new Trainer(TinyTrainingSetup.Config(output, "max_train_steps = 2\nmasked_loss = true"), plan, models, CPU);
        var watcher = new StepWatcher();
        var result = trainer.Train(watcher);
        Assert.All(watcher.Reports, r => Assert.Equal(0f, r.Loss));
        Assert.All(trainer.Network!.StateDict().Where(kv => kv.Key.Contains("lora_up")), kv => Assert.Equal(0f, kv.Value.abs().max().item<float>()));
        using var file = NotebookTrainer.SafeTensors.SafeTensorsFile.Open(result.OutputPath!);
        Assert.Equal("True", file.Metadata["ss_masked_loss"]);
        Assert.Contains("\"alpha_mask\":true", file.Metadata["ss_datasets"]);
    }
}
