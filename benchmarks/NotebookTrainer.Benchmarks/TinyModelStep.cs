using NotebookTrainer.Models.Configs;
using NotebookTrainer.Models.UNet;
using static TorchSharp.torch;

namespace NotebookTrainer.Benchmarks;

/// <summary>Step time of the tiny U-Net (the embedded default model), the unit of every CPU test and notebook run.</summary>
static class TinyModelStep
{
    public static void Run(string[] args)
    {
        var batch = args.Length > 0 ? int.Parse(args[0]) : 4;
        manual_seed(0);
        using var unet = new UNet2DConditionModel(UNet2DConditionConfig.Tiny);
        using var latents = randn(batch, 4, 32, 32);
        using var text = randn(batch, 77, UNet2DConditionConfig.Tiny.CrossAttentionDim);
        using var t = randint(0, 1000, [batch]);
        using var target = randn(batch, 4, 32, 32);
        var forward = Timing.MedianSeconds(() =>
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            unet.forward(latents, t, text);
        }, warmup: 1, repeats: 5);
        Console.WriteLine($"tiny U-Net forward (no grad), batch {batch}: {forward * 1000:F1} ms");
        foreach (var checkpointing in new[] { false, true })
        {
            unet.EnableGradientCheckpointing(checkpointing);
            var seconds = Timing.MedianSeconds(() =>
            {
                using var scope = NewDisposeScope();
                unet.zero_grad();
                nn.functional.mse_loss(unet.forward(latents, t, text), target).backward();
            }, warmup: 1, repeats: 5);
            Console.WriteLine($"tiny U-Net fwd+bwd, batch {batch}, 32x32 latents, checkpointing {(checkpointing ? "on " : "off")}: {seconds * 1000:F1} ms/step");
        }
    }
}
