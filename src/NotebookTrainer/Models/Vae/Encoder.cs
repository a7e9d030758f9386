using NotebookTrainer.Models.Blocks;
using NotebookTrainer.ModelConfigs;
using NotebookTrainer.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NotebookTrainer.Models.Vae;

/// <summary>diffusers' VAE <c>Encoder</c>: image → 2·latent_channels moments (mean, logvar) at 1/2^(blocks−1) resolution.</summary>
public sealed class Encoder : nn.Module<Tensor, Tensor>
{
    public readonly AdaptableConv2d conv_in;
    public readonly ModuleList<DownEncoderBlock2D> down_blocks = new();
    public readonly UNetMidBlock2D mid_block;
    public readonly GroupNorm conv_norm_out;
    public readonly AdaptableConv2d conv_out;

    public Encoder(AutoencoderKLConfig config, ScalarType? dtype = null, Device? device = null) : base(nameof(Encoder))
    {
        var channels = config.BlockOutChannels;
        conv_in = new AdaptableConv2d(config.InChannels, channels[0], 3, padding: 1, dtype: dtype, device: device);
        var outputChannel = channels[0];
        for (var i = 0; i < channels.Length; i++)
        {
            var inputChannel = outputChannel;
            outputChannel = channels[i];
            down_blocks.Add(new DownEncoderBlock2D(inputChannel, outputChannel, config.LayersPerBlock, config.NormNumGroups, i < channels.Length - 1, dtype, device));
        }
        mid_block = new UNetMidBlock2D(channels[^1], config.NormNumGroups, dtype, device);
        conv_norm_out = Normalization.GroupNorm(config.NormNumGroups, channels[^1], 1e-6, dtype, device);
        conv_out = new AdaptableConv2d(channels[^1], 2 * config.LatentChannels, 3, padding: 1, dtype: dtype, device: device);
        RegisterComponents();
    }

    public override Tensor forward(Tensor sample)
    {
        using var scope = NewDisposeScope();
        var h = conv_in.forward(sample);
        foreach (var block in down_blocks)
            h = block.forward(h);
        h = mid_block.forward(h);
        h = conv_out.forward(nn.functional.silu(conv_norm_out.forward(h)));
        return h.MoveToOuterDisposeScope();
    }
}
