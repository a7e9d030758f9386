using NotebookTrainer.Checkpoints;
using NotebookTrainer.Datasets;
using NotebookTrainer.IO;
using NotebookTrainer.Models;
using NotebookTrainer.Models.Clip;
using NotebookTrainer.ModelConfigs;
using NotebookTrainer.Models.Layers;
using NotebookTrainer.Models.UNet;
using NotebookTrainer.Models.Vae;
using NotebookTrainer.Tokenizers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NotebookTrainer.World;

/// <summary>The configs of a tiny model; <see cref="Text2"/> (SDXL's second text encoder) makes it an SDXL model.</summary>
public sealed record TinyModelConfigs(UNet2DConditionConfig Unet, AutoencoderKLConfig Vae, CLIPTextConfig Text, CLIPTextConfig? Text2 = null);

/// <summary>
/// A randomly initialised Stable Diffusion 1.x model at toy widths, deterministically from the seed: the real
/// architecture written as a real single-file LDM-layout <c>.safetensors</c> that loads through
/// <see cref="StableDiffusion.Load"/> exactly like an SD 1.5 file, with the diffusers configs in <c>config/</c> and a
/// CLIP-format BPE tokenizer trained on the generated world's words in <c>tokenizer/</c> next to it.
/// <see cref="Test"/> (U-Net 32/64 channels, one layer per block, 2 heads, cross-attention 64; VAE 32/64 channels, so it
/// downsamples by 2; CLIP 2 layers of width 64, 1024-token embedding table) keeps tests fast;
/// <c>ntrain pretrain</c> starts from <see cref="World.WorldModel.Configs"/> and trains it into the embedded default.
/// <see cref="TestXL"/> is the same at SDXL's structure (sgm single file, two text encoders, text_time conditioning).
/// </summary>
public static class TinyStableDiffusion
{
    public const string FileName = "tiny-sd.safetensors";
    public const string ConfigFolder = "config";
    public const string TokenizerFolder = "tokenizer";

    /// <summary>
    /// The catalog's <c>tiny-xl</c>: <see cref="XL"/> with random weights from <see cref="XLSeed"/>. There is no
    /// pretrained tiny SDXL; it exists so every notebook's SDXL code path runs on a CPU in minutes.
    /// </summary>
    public const string XLSource = "embedded:tiny-xl";
    public const int XLSeed = 1234;

    public static CLIPTextConfig TextConfig { get; } = new()
    {
        VocabSize = 1024,
        HiddenSize = 64,
        IntermediateSize = 256,
        NumHiddenLayers = 2,
        NumAttentionHeads = 2,
    };

    public static TinyModelConfigs Test { get; } = new(UNet2DConditionConfig.Tiny, AutoencoderKLConfig.Tiny, TextConfig);

    /// <summary>
    /// SDXL's structure at toy widths: <see cref="UNet2DConditionConfig.TinyXL"/> conditioned on text encoder 1
    /// (<see cref="TextConfig"/>, width 64) joined with a 32-wide OpenCLIP-style text encoder 2 whose projection gives the
    /// 32-wide pooled embedding.
    /// </summary>
    public static TinyModelConfigs TestXL { get; } = new(
        UNet2DConditionConfig.TinyXL with { CrossAttentionDim = 64 + 32 }, AutoencoderKLConfig.Tiny, TextConfig,
        TextConfig with { HiddenSize = 32, IntermediateSize = 64, HiddenAct = "gelu", ProjectionDim = 32 });

    /// <summary>
    /// The catalog's <c>tiny-xl</c>: <see cref="TestXL"/>'s U-Net and text encoders at the embedded model's scale — its
    /// VAE (<see cref="World.WorldModel.Configs"/>, downsampling by 8), so the notebooks' 64 px images train on 8×8
    /// latents, as on the embedded SD1 model, and a step costs about what it costs there.
    /// </summary>
    // A property, not a static field: WorldModel.Configs is built from this class, so a field would read it half-built.
    public static TinyModelConfigs XL => TestXL with
    {
        Unet = TestXL.Unet with { SampleSize = World.WorldModel.Resolution / 8 },
        Vae = World.WorldModel.Configs.Vae,
    };

    /// <summary>
    /// Writes <c>DIR/tiny-sd.safetensors</c>, the diffusers configs in <c>DIR/config/</c> and the tokenizer in
    /// <c>DIR/tokenizer/</c>; returns the model file path.
    /// </summary>
    public static string Write(string dir, int seed = 1234, TinyModelConfigs? configs = null)
    {
        var (unetConfig, vaeConfig, textConfig, text2Config) = configs ?? Test;
        Directory.CreateDirectory(dir);
        var tokenizer = ClipTokenizer.BuildTiny(World.WorldAttributes.TokenizerTexts(SampleDataset.ActivationTag), merges: 1000, Path.Combine(dir, TokenizerFolder));
        if (tokenizer.VocabSize > textConfig.VocabSize)
            throw new InvalidOperationException($"the tiny tokenizer has {tokenizer.VocabSize} tokens, more than the tiny text encoder's {textConfig.VocabSize} embeddings.");
        var configDir = Path.Combine(dir, ConfigFolder);
        AtomicFile.WriteAllText(Path.Combine(configDir, "unet", "config.json"), unetConfig.ToJson());
        AtomicFile.WriteAllText(Path.Combine(configDir, "vae", "config.json"), vaeConfig.ToJson());
        AtomicFile.WriteAllText(Path.Combine(configDir, "text_encoder", "config.json"),
            (textConfig with { BosTokenId = tokenizer.BosId, EosTokenId = tokenizer.EosId }).ToJson());
        if (text2Config is not null)
            AtomicFile.WriteAllText(Path.Combine(configDir, "text_encoder_2", "config.json"),
                (text2Config with { BosTokenId = tokenizer.BosId, EosTokenId = tokenizer.EosId }).ToJson("CLIPTextModelWithProjection"));
        AtomicFile.WriteAllText(Path.Combine(configDir, "scheduler", "scheduler_config.json"), NoiseSchedulerConfig.Epsilon.ToJson());

        using var scope = NewDisposeScope();
        using var generator = new Generator((ulong)seed);
        var meta = device("meta");
        var architecture = text2Config is null ? ModelArchitecture.StableDiffusion1 : ModelArchitecture.StableDiffusionXL;
        using var weights = new StableDiffusionWeights(architecture, DiffusersConfigs.Read(configDir));
        Initialise(new UNet2DConditionModel(unetConfig, device: meta), weights.Unet, generator);
        Initialise(new AutoencoderKL(vaeConfig, device: meta), weights.Vae, generator);
        Initialise(new CLIPTextModel(textConfig, device: meta), weights.TextEncoder, generator);
        if (text2Config is not null) Initialise(new CLIPTextModelWithProjection(text2Config, device: meta), weights.TextEncoder2!, generator);
        weights.Metadata["modelspec.title"] = text2Config is null ? "NotebookTrainer tiny SD" : "NotebookTrainer tiny SDXL";
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
