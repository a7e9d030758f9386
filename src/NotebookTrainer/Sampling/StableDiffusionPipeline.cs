using NotebookTrainer.Diffusion;
using NotebookTrainer.Models.Clip;
using NotebookTrainer.ModelConfigs;
using NotebookTrainer.Models.UNet;
using NotebookTrainer.Models.Vae;
using NotebookTrainer.Models;
using NotebookTrainer.Tokenizers;
using static TorchSharp.torch;

namespace NotebookTrainer.Sampling;

/// <summary>
/// Binds the Stable Diffusion modules (U-Net, CLIP text encoder(s), VAE, CLIP tokenizer) into a <see cref="DiffusionPipeline"/>.
/// SDXL samples as sd-scripts' SDXL pipeline does: both text encoders (tokenizer 2's ids are tokenizer 1's padded with 0),
/// the first window's pooled embedding, and size/crop numbers (height, width, 0, 0, height, width) of the image made.
/// </summary>
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
        var dir = tokenizerDir ?? model.TokenizerDir ?? throw new FileNotFoundException(ClipTokenizer.MissingTokenizerHelp(source));
        var tokenizer = ClipTokenizer.Load(dir);
        if (embeddings is { Count: > 0 })
        {
            if (model.IsSdxl)
                throw new ArgumentException($"{source}: an SDXL model; Textual Inversion embeddings on SDXL (clip_l and clip_g vectors) are not supported yet.", nameof(embeddings));
            tokenizer = Embeddings.TextualInversionEmbedding.Apply(embeddings, tokenizer, model.TextEncoder);
        }
        return Create(model.Unet, model.TextEncoder, model.Vae, tokenizer, model.Scheduler, clipSkip, textEncoder2: model.TextEncoder2);
    }

    /// <param name="clipSkip">kohya's clip_skip: 1 is the last layer, 2 the one before (SD1 anime models); SDXL always uses the penultimate layers.</param>
    /// <param name="textEncoder2">SDXL's second text encoder; the U-Net must then be an SDXL (text_time) one.</param>
    public static DiffusionPipeline Create(UNet2DConditionModel unet, CLIPTextModel textEncoder, AutoencoderKL vae, ClipTokenizer tokenizer,
        NoiseSchedulerConfig? scheduler = null, int clipSkip = 1, Device? device = null, CLIPTextModelWithProjection? textEncoder2 = null)
    {
        device ??= unet.conv_in.weight.device;
        var unetDtype = unet.conv_in.weight.dtype;
        var vaeDtype = vae.post_quant_conv.weight.dtype;
        var vaeScale = vae.Config.DownscaleFactor;
        var promptTokenizer = new PromptTokenizer(tokenizer.Encode, tokenizer.BosId, tokenizer.EosId, tokenizer.PadId);
        var prompts = textEncoder2 is null
            ? new PromptEmbedder(promptTokenizer, ids => TextEncoding.Encode(textEncoder, ids.to(device), clipSkip))
            : new PromptEmbedder(promptTokenizer, ids =>
            {
                var (states, pooled) = TextEncoding.EncodeSdxl(textEncoder, textEncoder2, ids.to(device), PaddedWithZeros(ids, tokenizer.EosId).to(device));
                return new PromptConditioning(states, pooled);
            });
        return new DiffusionPipeline(
            (sample, timestep, conditioning) =>
            {
                using var scope = NewDisposeScope();
                var timeIds = conditioning.Pooled is null ? null : SizeIds(sample.shape[2] * vaeScale, sample.shape[3] * vaeScale, sample.shape[0], sample.device);
                var output = unet.forward(sample.to(unetDtype), timestep, conditioning.States.to(unetDtype), conditioning.Pooled, timeIds);
                return output.to(sample.dtype).MoveToOuterDisposeScope();
            },
            prompts,
            latents =>
            {
                using var images = vae.decode(latents.to(vaeDtype));
                return images.to(ScalarType.Float32);
            },
            new NoiseSchedule(scheduler ?? NoiseSchedulerConfig.Epsilon),
            vae.Config.LatentChannels,
            vaeScale,
            vae.Config.ScalingFactor,
            device);
    }

    /// <summary>sd-scripts' sampling time ids: the image size as original and target size, no crop.</summary>
    static Tensor SizeIds(long height, long width, long batch, Device device) =>
        tensor(new float[] { height, width, 0, 0, height, width }, device: device).expand(batch, 6);

    /// <summary>Tokenizer 2's ids for a window of tokenizer 1's: everything after the first EOS becomes 0 ("!").</summary>
    static Tensor PaddedWithZeros(Tensor ids, int eosId)
    {
        using var eos = ids.eq(eosId).to(ScalarType.Int64);
        using var afterEos = (eos.cumsum(1) - eos).gt(0);
        return ids.masked_fill(afterEos, 0);
    }
}
