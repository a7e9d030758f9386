using NotebookTrainer.Diffusion;
using static TorchSharp.torch;

namespace NotebookTrainer.Sampling;

/// <summary>
/// The parts of a Stable Diffusion model that sampling runs: U-Net, prompt embedder (tokenizer + text encoder)
/// and VAE decoder, as delegates so any module set (full SD, the tiny model, a toy in tests) plugs in.
/// </summary>
/// <param name="DecodeLatents">Unscaled latents (B, C, h, w) → images (B, 3, h·f, w·f) in [−1, 1].</param>
/// <param name="LatentScale">VAE scaling factor (0.18215 for SD 1.x/2.x); sampled latents are divided by it before decoding.</param>
public sealed record DiffusionPipeline(
    ConditionalDenoiser Unet,
    PromptEmbedder Prompts,
    Func<Tensor, Tensor> DecodeLatents,
    NoiseSchedule Schedule,
    int LatentChannels = 4,
    int VaeScaleFactor = 8,
    double LatentScale = 0.18215,
    Device? Device = null);
