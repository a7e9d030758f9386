using NotebookTrainer.Diffusion;
using NotebookTrainer.ModelConfigs;
using NotebookTrainer.Models.UNet;
using NotebookTrainer.Networks;
using NotebookTrainer.Sampling;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.Tests.Sampling;

/// <summary>
/// A real (randomly initialised) tiny U-Net from the models library, a word-embedding text encoder of the U-Net's
/// cross-attention width and a 1×1-conv + ×8 upsampling decoder: small enough for CPU tests, the same code path as SD.
/// </summary>
sealed class TinyPipeline : IDisposable
{
    public readonly UNet2DConditionModel Unet;
    readonly nn.Module<Tensor, Tensor> embedding;
    readonly nn.Module<Tensor, Tensor> decoder;

    public TinyPipeline(int seed = 11)
    {
        // One intra-op thread: the tiny model's ops are too small to gain from more, and on a busy CPU extra
        // threads made each U-Net call 10–40× slower.
        set_num_threads(1);
        manual_seed(seed);
        Unet = new UNet2DConditionModel(UNet2DConditionConfig.Tiny);
        Unet.eval();
        embedding = nn.Embedding(128, UNet2DConditionConfig.Tiny.CrossAttentionDim);
        decoder = nn.Conv2d(4, 3, 1);
        var tokenizer = new PromptTokenizer(
            text => text.Split([' ', ','], StringSplitOptions.RemoveEmptyEntries).Select(w => 3 + (int)(StableHash(w) % 120)).ToList(),
            BosId: 1, EosId: 2, PadId: 2);
        Pipeline = new DiffusionPipeline(
            (sample, t, context) => Unet.forward(sample, t, context.States),
            new PromptEmbedder(tokenizer, ids => embedding.forward(ids)),
            latents => nn.functional.interpolate(decoder.forward(latents * 0.18215), scale_factor: [8, 8], mode: InterpolationMode.Nearest).tanh(),
            NoiseSchedule.StableDiffusion);
    }

    public DiffusionPipeline Pipeline { get; }

    static uint StableHash(string s) => s.Aggregate(2166136261u, (h, c) => (h ^ c) * 16777619u);

    /// <summary>A LoRA on the U-Net's attention layers with non-zero up weights, so it changes the output.</summary>
    public LoraNetwork RandomLora(int seed)
    {
        manual_seed(seed);
        var network = LoraNetwork.Create(Unet, null, new NetworkOptions { Dim = 4, Alpha = 4 });
        using var _ = no_grad();
        foreach (var (key, tensor) in network.StateDict())
            if (key.EndsWith("lora_up.weight", StringComparison.Ordinal)) tensor.normal_(0, 0.5);
        return network;
    }

    public void Dispose()
    {
        Unet.Dispose();
        embedding.Dispose();
        decoder.Dispose();
    }
}
