using NotebookTrainer.Models.Blocks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NotebookTrainer.Models.Vae;

/// <summary>
/// diffusers' <c>UNetMidBlock2D</c> as the VAE uses it: resnet, single-head spatial self-attention with
/// GroupNorm and residual, resnet; eps 1e-6, no time embedding.
/// </summary>
public sealed class UNetMidBlock2D : nn.Module<Tensor, Tensor>
{
    public readonly ModuleList<Attention> attentions = new();
    public readonly ModuleList<ResnetBlock2D> resnets = new();

    public UNetMidBlock2D(int channels, int groups, ScalarType? dtype = null, Device? device = null) : base(nameof(UNetMidBlock2D))
    {
        resnets.Add(new ResnetBlock2D(channels, channels, null, groups, 1e-6, dtype, device));
        attentions.Add(new Attention(channels, null, heads: 1, headDim: channels, bias: true, normNumGroups: groups, normEps: 1e-6,
            residualConnection: true, dtype: dtype, device: device));
        resnets.Add(new ResnetBlock2D(channels, channels, null, groups, 1e-6, dtype, device));
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var h = resnets[0].forward(input, null);
        h = attentions[0].forward(h);
        h = resnets[1].forward(h, null);
        return h.MoveToOuterDisposeScope();
    }
}
