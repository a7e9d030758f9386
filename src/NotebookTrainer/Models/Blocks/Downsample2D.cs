using NotebookTrainer.Models.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.Models.Blocks;

/// <summary>
/// diffusers' <c>Downsample2D</c> with a strided 3×3 conv. The VAE uses padding 0 and pads right/bottom
/// by one first (the original LDM asymmetry); the U-Net uses padding 1.
/// </summary>
public sealed class Downsample2D : nn.Module
{
    public readonly AdaptableConv2d conv;
    readonly int _padding;

    public Downsample2D(int channels, int padding, ScalarType? dtype = null, Device? device = null) : base(nameof(Downsample2D))
    {
        _padding = padding;
        conv = new AdaptableConv2d(channels, channels, 3, stride: 2, padding: padding, dtype: dtype, device: device);
        RegisterComponents();
    }

    public Tensor forward(Tensor input)
    {
        if (_padding != 0)
            return conv.forward(input);
        using var padded = nn.functional.pad(input, [0, 1, 0, 1]);
        return conv.forward(padded);
    }
}
