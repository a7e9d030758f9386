using NotebookTrainer.Models.Blocks;
using NotebookTrainer.ModelConfigs;
using NotebookTrainer.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NotebookTrainer.Models.UNet;

/// <summary>
/// diffusers' <c>UNet2DConditionModel</c> for Stable Diffusion 1.x/2.x and SDXL. Field names are diffusers' module
/// names, so <c>state_dict()</c> keys equal diffusers checkpoint keys and LoRA names derive from module paths.
/// SDXL adds <c>add_time_proj</c> and <c>add_embedding</c> (addition_embed_type "text_time").
/// </summary>
public sealed class UNet2DConditionModel : nn.Module
{
    public readonly AdaptableConv2d conv_in;
    public readonly Timesteps time_proj;
    public readonly TimestepEmbedding time_embedding;
    public readonly Timesteps? add_time_proj;
    public readonly TimestepEmbedding? add_embedding;
    public readonly ModuleList<UNetDownBlock> down_blocks = new();
    public readonly UNetMidBlock2DCrossAttn mid_block;
    public readonly ModuleList<UNetUpBlock> up_blocks = new();
    public readonly GroupNorm conv_norm_out;
    public readonly AdaptableConv2d conv_out;

    public UNet2DConditionModel(UNet2DConditionConfig config, ScalarType? dtype = null, Device? device = null) : base(nameof(UNet2DConditionModel))
    {
        Config = config;
        var channels = config.BlockOutChannels;
        var heads = config.AttentionHeads;
        var timeEmbedDim = channels[0] * 4;
        conv_in = new AdaptableConv2d(config.InChannels, channels[0], 3, padding: 1, dtype: dtype, device: device);
        time_proj = new Timesteps(channels[0], config.FlipSinToCos, config.FreqShift);
        time_embedding = new TimestepEmbedding(channels[0], timeEmbedDim, dtype, device);
        if (config.HasTextTimeEmbedding)
        {
            add_time_proj = new Timesteps(config.AdditionTimeEmbedDim!.Value, config.FlipSinToCos, config.FreqShift);
            add_embedding = new TimestepEmbedding(config.ProjectionClassEmbeddingsInputDim!.Value, timeEmbedDim, dtype, device);
        }

        var outputChannel = channels[0];
        for (var i = 0; i < channels.Length; i++)
        {
            var inputChannel = outputChannel;
            outputChannel = channels[i];
            var isFinal = i == channels.Length - 1;
            down_blocks.Add(config.DownBlockTypes[i] == "CrossAttnDownBlock2D"
                ? new CrossAttnDownBlock2D(inputChannel, outputChannel, timeEmbedDim, config.LayersPerBlock, heads[i], config.TransformerDepth(i), config.CrossAttentionDim, config, !isFinal, dtype, device)
                : new DownBlock2D(inputChannel, outputChannel, timeEmbedDim, config.LayersPerBlock, config, !isFinal, dtype, device));
        }

        mid_block = new UNetMidBlock2DCrossAttn(channels[^1], timeEmbedDim, heads[^1], config.TransformerDepth(channels.Length - 1), config, dtype, device);

        var reversedChannels = channels.Reverse().ToArray();
        var reversedHeads = heads.Reverse().ToArray();
        outputChannel = reversedChannels[0];
        for (var i = 0; i < reversedChannels.Length; i++)
        {
            var prevOutputChannel = outputChannel;
            outputChannel = reversedChannels[i];
            var inputChannel = reversedChannels[Math.Min(i + 1, reversedChannels.Length - 1)];
            var isFinal = i == reversedChannels.Length - 1;
            up_blocks.Add(config.UpBlockTypes[i] == "CrossAttnUpBlock2D"
                ? new CrossAttnUpBlock2D(inputChannel, outputChannel, prevOutputChannel, timeEmbedDim, config.LayersPerBlock + 1, reversedHeads[i], config.TransformerDepth(channels.Length - 1 - i), config, !isFinal, dtype, device)
                : new UpBlock2D(inputChannel, outputChannel, prevOutputChannel, timeEmbedDim, config.LayersPerBlock + 1, config, !isFinal, dtype, device));
        }

        conv_norm_out = Normalization.GroupNorm(config.NormNumGroups, channels[0], config.NormEps, dtype, device);
        conv_out = new AdaptableConv2d(channels[0], config.OutChannels, 3, padding: 1, dtype: dtype, device: device);
        RegisterComponents();
    }

    public UNet2DConditionConfig Config { get; }

    /// <summary>Checkpoints every resnet and transformer of the down, mid and up blocks, as diffusers does.</summary>
    public void EnableGradientCheckpointing(bool enabled = true)
    {
        foreach (var block in down_blocks) block.GradientCheckpointing = enabled;
        mid_block.GradientCheckpointing = enabled;
        foreach (var block in up_blocks) block.GradientCheckpointing = enabled;
    }

    /// <param name="sample">Noisy latents (B, C, H, W).</param>
    /// <param name="timesteps">One timestep for the batch or one per sample.</param>
    /// <param name="encoderHiddenStates">Text encoder states (B, tokens, cross_attention_dim).</param>
    /// <param name="textEmbeds">SDXL only: the pooled text embedding (B, P) of text encoder 2 (diffusers' added_cond_kwargs["text_embeds"]).</param>
    /// <param name="timeIds">SDXL only: (B, 6) original height and width, crop top and left, target height and width.</param>
    public Tensor forward(Tensor sample, Tensor timesteps, Tensor encoderHiddenStates, Tensor? textEmbeds = null, Tensor? timeIds = null)
    {
        if (Config.HasTextTimeEmbedding ? textEmbeds is null || timeIds is null : textEmbeds is not null || timeIds is not null)
            throw new ArgumentException(Config.HasTextTimeEmbedding
                ? "this SDXL U-Net (addition_embed_type \"text_time\") needs the pooled text embedding (text_embeds) and the six size/crop numbers (time_ids)."
                : "text_embeds and time_ids are SDXL conditioning; this U-Net has no addition_embed_type \"text_time\".");
        using var scope = NewDisposeScope();
        var upFactor = 1L << (up_blocks.Count - 1);
        var irregularSize = sample.shape[2] % upFactor != 0 || sample.shape[3] % upFactor != 0;

        var t = timesteps.dim() == 0 ? timesteps.unsqueeze(0) : timesteps;
        t = t.to(sample.device).expand(sample.shape[0]);
        var temb = time_embedding.forward(time_proj.forward(t).to(sample.dtype));
        if (add_time_proj is not null && add_embedding is not null)
            temb = temb + AddedEmbedding(textEmbeds!, timeIds!, sample.shape[0], temb.dtype);

        var h = conv_in.forward(sample);
        var skips = new List<Tensor> { h };
        foreach (var block in down_blocks)
        {
            (h, var blockSkips) = block.forward(h, temb, encoderHiddenStates);
            skips.AddRange(blockSkips);
        }

        h = mid_block.forward(h, temb, encoderHiddenStates);

        for (var i = 0; i < up_blocks.Count; i++)
        {
            var block = up_blocks[i];
            var n = block.resnets.Count;
            var blockSkips = skips.GetRange(skips.Count - n, n);
            skips.RemoveRange(skips.Count - n, n);
            long[]? upsampleSize = irregularSize && i < up_blocks.Count - 1 ? [skips[^1].shape[2], skips[^1].shape[3]] : null;
            h = block.forward(h, blockSkips, temb, encoderHiddenStates, upsampleSize);
        }

        h = conv_out.forward(nn.functional.silu(conv_norm_out.forward(h)));
        return h.MoveToOuterDisposeScope();
    }

    /// <summary>SDXL's add_embedding(concat(text_embeds, add_time_proj(each time id)), the last flattened per sample).</summary>
    Tensor AddedEmbedding(Tensor textEmbeds, Tensor timeIds, long batch, ScalarType dtype)
    {
        if (textEmbeds.dim() != 2 || textEmbeds.shape[0] != batch || textEmbeds.shape[1] != Config.TextEmbedsDim)
            throw new ArgumentException($"text_embeds must be ({batch}, {Config.TextEmbedsDim}), got ({string.Join(", ", textEmbeds.shape)}).", nameof(textEmbeds));
        if (timeIds.dim() != 2 || timeIds.shape[0] != batch || timeIds.shape[1] != 6)
            throw new ArgumentException($"time_ids must be ({batch}, 6), got ({string.Join(", ", timeIds.shape)}).", nameof(timeIds));
        var timeEmbeds = add_time_proj!.forward(timeIds.flatten()).reshape(batch, -1);
        return add_embedding!.forward(cat([textEmbeds.to(timeEmbeds.dtype), timeEmbeds], -1).to(dtype));
    }
}
