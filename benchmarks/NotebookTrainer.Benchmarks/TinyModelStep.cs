using NotebookTrainer.ModelConfigs;
using NotebookTrainer.Models;
using NotebookTrainer.Models.Clip;
using NotebookTrainer.Models.UNet;
using NotebookTrainer.World;
using static TorchSharp.torch;

namespace NotebookTrainer.Benchmarks;

/// <summary>
/// Step time of a tiny U-Net: the test model (32×32 latents, the unit of every CPU test) or, with <c>world</c>, the
/// embedded default's (8×8 latents, batch 32 as pretraining runs it), to compare with the trainer's own s/step.
/// </summary>
static class TinyModelStep
{
    public static void Run(string[] args)
    {
        var world = args.Contains("world");
        var numbers = args.Where(a => a != "world").ToArray();
        var config = world ? WorldModel.Configs.Unet : UNet2DConditionConfig.Tiny;
        var batch = numbers.Length > 0 ? int.Parse(numbers[0]) : world ? 32 : 4;
        var side = config.SampleSize;
        manual_seed(0);
        using var unet = new UNet2DConditionModel(config);
        using var latents = randn(batch, 4, side, side);
        using var text = randn(batch, 77, config.CrossAttentionDim);
        using var t = randint(0, 1000, [batch]);
        using var target = randn(batch, 4, side, side);
        var forward = Timing.MedianSeconds(() =>
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            unet.forward(latents, t, text);
        }, warmup: 1, repeats: 5);
        Console.WriteLine($"{(world ? "world" : "tiny")} U-Net forward (no grad), batch {batch}: {forward * 1000:F1} ms");
        if (world) TextEncoderForward(batch);
        foreach (var checkpointing in new[] { false, true })
        {
            unet.EnableGradientCheckpointing(checkpointing);
            var seconds = Timing.MedianSeconds(() =>
            {
                using var scope = NewDisposeScope();
                unet.zero_grad();
                nn.functional.mse_loss(unet.forward(latents, t, text), target).backward();
            }, warmup: 1, repeats: 5);
            Console.WriteLine($"{(world ? "world" : "tiny")} U-Net fwd+bwd, batch {batch}, {side}x{side} latents, checkpointing {(checkpointing ? "on " : "off")}: {seconds * 1000:F1} ms/step");
        }
    }

    /// <summary>What a frozen text encoder costs per step when its outputs are not cached (cache_text_encoder_outputs).</summary>
    static void TextEncoderForward(int batch)
    {
        var config = WorldModel.Configs.Text;
        using var textEncoder = new CLIPTextModel(config);
        using var ids = randint(0, config.VocabSize, [batch, config.MaxPositionEmbeddings]);
        var seconds = Timing.MedianSeconds(() =>
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            TextEncoding.Encode(textEncoder, ids);
        }, warmup: 1, repeats: 5);
        Console.WriteLine($"world text encoder forward (no grad), batch {batch}: {seconds * 1000:F1} ms");
    }
}
