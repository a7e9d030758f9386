using NotebookTrainer.Models.Blocks;
using NotebookTrainer.ModelConfigs;
using NotebookTrainer.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NotebookTrainer.Models.Vae;

/// <summary>diffusers' VAE <c>Decoder</c>: latents → image, up blocks in reversed channel order with layers_per_block + 1 resnets.</summary>
public sealed class Decoder : nn.Module<Tensor, Tensor>
{
    public readonly AdaptableConv2d conv_in;
    public readonly UNetMidBlock2D mid_block;
    public readonly ModuleList<UpDecoderBlock2D> up_blocks = new();
    public readonly GroupNorm conv_norm_out;
    public readonly AdaptableConv2d conv_out;

    public Decoder(AutoencoderKLConfig config, ScalarType? dtype = null, Device? device = null) : base(nameof(Decoder))
    {
        var reversed = config.BlockOutChannels.Reverse().ToArray();
        conv_in = new AdaptableConv2d(config.LatentChannels, reversed[0], 3, padding: 1, dtype: dtype, device: device);
        mid_block = new UNetMidBlock2D(reversed[0], config.NormNumGroups, dtype, device);
        var outputChannel = reversed[0];
        for (var i = 0; i < reversed.Length; i++)
        {
            var prevOutputChannel = outputChannel;
            outputChannel = reversed[i];
            up_blocks.Add(new UpDecoderBlock2D(prevOutputChannel, outputChannel, config.LayersPerBlock + 1, config.NormNumGroups, i < reversed.Length - 1, dtype, device));
        }
        conv_norm_out = Normalization.GroupNorm(config.NormNumGroups, config.BlockOutChannels[0], 1e-6, dtype, device);
        conv_out = new AdaptableConv2d(config.BlockOutChannels[0], config.OutChannels, 3, padding: 1, dtype: dtype, device: device);
        RegisterComponents();
    }

    public override Tensor forward(Tensor latents)
    {
        using var scope = NewDisposeScope();
        var h = conv_in.forward(latents);
        h = mid_block.forward(h);
        foreach (var block in up_blocks)
            h = block.forward(h);
        h = conv_out.forward(nn.functional.silu(conv_norm_out.forward(h)));
        return h.MoveToOuterDisposeScope();
    }
}
