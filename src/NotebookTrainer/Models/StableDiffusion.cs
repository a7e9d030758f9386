using NotebookTrainer.Checkpoints;
using NotebookTrainer.ModelConfigs;
using NotebookTrainer.Progress;
using static TorchSharp.torch;

namespace NotebookTrainer.Models;

/// <summary>The one way base models are loaded: real SD 1.x/2.x and SDXL files, diffusers folders and the embedded tiny model alike.</summary>
public static class StableDiffusion
{
    /// <summary>
    /// Loads a single-file checkpoint (LDM layout) or a diffusers folder into frozen modules.
    /// <paramref name="configDir"/> is a diffusers-style folder with unet/, vae/, text_encoder/ (and
    /// scheduler/) config files; when null and a <c>config/</c> folder sits next to the file (the tiny model's
    /// layout), that one is used, else the public SD 1.5 / 2.1 defaults (<see cref="CheckpointLoader.Analyze"/>). Tensors are converted to
    /// <paramref name="dtype"/> one at a time as they leave the mapped file and become the module parameters
    /// without another copy, so peak memory is about the model size in that dtype.
    /// </summary>
    public static StableDiffusionModel Load(string path, string? configDir = null, ScalarType? dtype = null, Device? device = null,
        IProgress<ProgressUpdate>? progress = null, CancellationToken cancellationToken = default)
    {
        using var weights = CheckpointLoader.Load(path, configDir, dtype, progress, cancellationToken);
        var configs = weights.Configs;
        var (unet, vae, text) = (configs.UnetConfig, configs.VaeConfig, configs.TextEncoderConfig);
        var scheduler = configs.SchedulerConfig ?? NoiseSchedulerConfig.Epsilon;
        return StableDiffusionModel.FromWeights(path, unet, weights.Unet, vae, weights.Vae, text, weights.TextEncoder,
            scheduler, weights.TokenizerDir, dtype, device, configs.TextEncoder2Config, weights.TextEncoder2);
    }
}
