using NotebookTrainer.Checkpoints;
using NotebookTrainer.Datasets;
using NotebookTrainer.IO;
using NotebookTrainer.Models.Clip;
using NotebookTrainer.Models.Configs;
using NotebookTrainer.Models.Layers;
using NotebookTrainer.Models.UNet;
using NotebookTrainer.Models.Vae;
using NotebookTrainer.Tokenizers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NotebookTrainer.Models;

/// <summary>
/// The embedded default base model: the real SD 1.x architecture at toy widths (U-Net 32/64 channels,
/// one layer per block, 2 heads, cross-attention 64; VAE 32/64 channels, so it downsamples by 2 —
/// the VAE downsamples by 2^(blocks − 1); CLIP 2 layers of width 64, 1024-token embedding table), written as
/// a real single-file LDM-layout <c>.safetensors</c> that loads through <see cref="StableDiffusion.Load"/>
/// exactly like an SD 1.5 file, with a CLIP-format BPE tokenizer trained on the sample dataset's words in
/// <c>tokenizer/</c> next to it. Weights are randomly initialised, deterministically from the seed; the VAE
/// does not autoencode yet.
/// </summary>
public static class TinyStableDiffusion
{
    public const string FileName = "tiny-sd.safetensors";
    public const string ConfigFolder = "config";
    public const string TokenizerFolder = "tokenizer";

    public static CLIPTextConfig TextConfig { get; } = new()
    {
        VocabSize = 1024,
        HiddenSize = 64,
        IntermediateSize = 256,
        NumHiddenLayers = 2,
        NumAttentionHeads = 2,
    };

    /// <summary>
    /// Writes <c>DIR/tiny-sd.safetensors</c>, the diffusers configs in <c>DIR/config/</c> and the tokenizer in
    /// <c>DIR/tokenizer/</c>; returns the model file path.
    /// </summary>
    public static string Write(string dir, int seed = 1234)
    {
        Directory.CreateDirectory(dir);
        var tokenizer = ClipTokenizer.BuildTiny(World.WorldAttributes.TokenizerTexts(SampleDataset.ActivationTag), merges: 1000, Path.Combine(dir, TokenizerFolder));
        if (tokenizer.VocabSize > TextConfig.VocabSize)
            throw new InvalidOperationException($"the tiny tokenizer has {tokenizer.VocabSize} tokens, more than the tiny text encoder's {TextConfig.VocabSize} embeddings.");
        var configDir = Path.Combine(dir, ConfigFolder);
        AtomicFile.WriteAllText(Path.Combine(configDir, "unet", "config.json"), UNet2DConditionConfig.Tiny.ToJson());
        AtomicFile.WriteAllText(Path.Combine(configDir, "vae", "config.json"), AutoencoderKLConfig.Tiny.ToJson());
        AtomicFile.WriteAllText(Path.Combine(configDir, "text_encoder", "config.json"),
            (TextConfig with { BosTokenId = tokenizer.BosId, EosTokenId = tokenizer.EosId }).ToJson());
        AtomicFile.WriteAllText(Path.Combine(configDir, "scheduler", "scheduler_config.json"), NoiseSchedulerConfig.Epsilon.ToJson());

        using var scope = NewDisposeScope();
        using var generator = new Generator((ulong)seed);
        var meta = device("meta");
        using var weights = new StableDiffusionWeights(ModelArchitecture.StableDiffusion1, DiffusersConfigs.Read(configDir));
        Initialise(new UNet2DConditionModel(UNet2DConditionConfig.Tiny, device: meta), weights.Unet, generator);
        Initialise(new AutoencoderKL(AutoencoderKLConfig.Tiny, device: meta), weights.Vae, generator);
        Initialise(new CLIPTextModel(TextConfig, device: meta), weights.TextEncoder, generator);
        weights.Metadata["modelspec.title"] = "NotebookTrainer tiny SD";
        weights.Metadata["ntrain.tiny_seed"] = seed.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var path = Path.Combine(dir, FileName);
        CheckpointWriter.WriteSingleFile(weights, path);
        return path;
    }

    /// <summary>
    /// PyTorch's default initialisation, drawn from <paramref name="generator"/> in parameter-name order so the
    /// file depends on the seed alone: Linear/Conv weight and bias U(±1/√fan_in), norms 1/0, embeddings N(0, 0.02).
    /// </summary>
    static void Initialise(nn.Module metaModule, Dictionary<string, Tensor> into, Generator generator)
    {
        using var module = metaModule;
        var owners = module.named_modules().ToDictionary(m => m.name, m => m.module);
        foreach (var (name, parameter) in module.named_parameters().OrderBy(p => p.name, StringComparer.Ordinal))
        {
            var dot = name.LastIndexOf('.');
            var owner = dot < 0 ? module : owners[name[..dot]];
            var leaf = name[(dot + 1)..];
            var shape = parameter.shape;
            var value = (owner, leaf) switch
            {
                (AdaptableLinear linear, _) => Uniform(shape, 1 / Math.Sqrt(linear.InFeatures), generator),
                (AdaptableConv2d conv, _) => Uniform(shape, 1 / Math.Sqrt(conv.InChannels * conv.KernelSize * conv.KernelSize), generator),
                (Embedding, _) => randn(shape, generator: generator).mul_(0.02),
                (_, "weight") => ones(shape),
                _ => zeros(shape),
            };
            into[name] = value.DetachFromDisposeScope();
        }
    }

    static Tensor Uniform(long[] shape, double bound, Generator generator) =>
        rand(shape, generator: generator).mul_(2 * bound).sub_(bound);
}
