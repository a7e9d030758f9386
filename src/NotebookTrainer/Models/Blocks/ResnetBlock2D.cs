using NotebookTrainer.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NotebookTrainer.Models.Blocks;

/// <summary>
/// diffusers' <c>ResnetBlock2D</c> (time_embedding_norm "default", output_scale_factor 1):
/// GroupNorm → SiLU → conv3×3 (+ projected time embedding) → GroupNorm → SiLU → conv3×3, plus a 1×1
/// shortcut when the channel count changes.
/// </summary>
public sealed class ResnetBlock2D : nn.Module
{
    public readonly GroupNorm norm1;
    public readonly AdaptableConv2d conv1;
    public readonly AdaptableLinear? time_emb_proj;
    public readonly GroupNorm norm2;
    public readonly AdaptableConv2d conv2;
    public readonly AdaptableConv2d? conv_shortcut;

    public ResnetBlock2D(int inChannels, int outChannels, int? tembChannels, int groups, double eps,
        ScalarType? dtype = null, Device? device = null) : base(nameof(ResnetBlock2D))
    {
        norm1 = Normalization.GroupNorm(groups, inChannels, eps, dtype, device);
        conv1 = new AdaptableConv2d(inChannels, outChannels, 3, padding: 1, dtype: dtype, device: device);
        if (tembChannels is int t)
            time_emb_proj = new AdaptableLinear(t, outChannels, true, dtype, device);
        norm2 = Normalization.GroupNorm(groups, outChannels, eps, dtype, device);
        conv2 = new AdaptableConv2d(outChannels, outChannels, 3, padding: 1, dtype: dtype, device: device);
        if (inChannels != outChannels)
            conv_shortcut = new AdaptableConv2d(inChannels, outChannels, 1, dtype: dtype, device: device);
        RegisterComponents();
    }

    public Tensor forward(Tensor input, Tensor? temb)
    {
        using var scope = NewDisposeScope();
        var h = conv1.forward(nn.functional.silu(norm1.forward(input)));
        if (time_emb_proj is not null && temb is not null)
            h = h + time_emb_proj.forward(nn.functional.silu(temb)).unsqueeze(-1).unsqueeze(-1);
        h = conv2.forward(nn.functional.silu(norm2.forward(h)));
        var shortcut = conv_shortcut is null ? input : conv_shortcut.forward(input);
        return (shortcut + h).MoveToOuterDisposeScope();
    }
}
