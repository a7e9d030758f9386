using NotebookTrainer.Diffusion;
using NotebookTrainer.Models.Clip;
using NotebookTrainer.ModelConfigs;
using NotebookTrainer.Models.UNet;
using NotebookTrainer.Models.Vae;
using NotebookTrainer.Models;
using NotebookTrainer.Tokenizers;
using static TorchSharp.torch;

namespace NotebookTrainer.Sampling;

/// <summary>Binds the Stable Diffusion modules (U-Net, CLIP text encoder, VAE, CLIP tokenizer) into a <see cref="DiffusionPipeline"/>.</summary>
public static class StableDiffusionPipeline
{
    /// <summary>
    /// A loaded model with the tokenizer that came with it (or the one in <paramref name="tokenizerDir"/>), and
    /// Textual Inversion <paramref name="embeddings"/> usable by their words in prompts.
    /// </summary>
    /// <param name="source">The checkpoint path, for the missing-tokenizer message.</param>
    public static DiffusionPipeline Create(StableDiffusionModel model, string source, string? tokenizerDir = null, int clipSkip = 1,
        IReadOnlyList<Embeddings.TextualInversionEmbedding>? embeddings = null)
    {
        if (model.IsSdxl)
            throw new Checkpoints.CheckpointFormatException($"{source}: an SDXL model; sampling with SDXL's conditioning (two text encoders, pooled text and size/crop numbers) is not available yet. Sample from an SD1.x or SD2.x model.");
        var dir = tokenizerDir ?? model.TokenizerDir ?? throw new FileNotFoundException(ClipTokenizer.MissingTokenizerHelp(source));
        var tokenizer = ClipTokenizer.Load(dir);
        if (embeddings is { Count: > 0 }) tokenizer = Embeddings.TextualInversionEmbedding.Apply(embeddings, tokenizer, model.TextEncoder);
        return Create(model.Unet, model.TextEncoder, model.Vae, tokenizer, model.Scheduler, clipSkip);
    }

    /// <param name="clipSkip">kohya's clip_skip: 1 is the last layer, 2 the one before (SD1 anime models).</param>
    public static DiffusionPipeline Create(UNet2DConditionModel unet, CLIPTextModel textEncoder, AutoencoderKL vae, ClipTokenizer tokenizer,
        NoiseSchedulerConfig? scheduler = null, int clipSkip = 1, Device? device = null)
    {
        device ??= unet.conv_in.weight.device;
        var unetDtype = unet.conv_in.weight.dtype;
        var vaeDtype = vae.post_quant_conv.weight.dtype;
        var prompts = new PromptEmbedder(
            new PromptTokenizer(tokenizer.Encode, tokenizer.BosId, tokenizer.EosId, tokenizer.PadId),
            ids => TextEncoding.Encode(textEncoder, ids.to(device), clipSkip));
        return new DiffusionPipeline(
            (sample, timestep, conditioning) =>
            {
                using var output = unet.forward(sample.to(unetDtype), timestep, conditioning.to(unetDtype));
                return output.to(sample.dtype);
            },
            prompts,
            latents =>
            {
                using var images = vae.decode(latents.to(vaeDtype));
                return images.to(ScalarType.Float32);
            },
            new NoiseSchedule(scheduler ?? NoiseSchedulerConfig.Epsilon),
            vae.Config.LatentChannels,
            vae.Config.DownscaleFactor,
            vae.Config.ScalingFactor,
            device);
    }
}
