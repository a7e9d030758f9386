using NotebookTrainer.Models.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.Models.Blocks;

/// <summary>diffusers' <c>Upsample2D</c>: nearest-neighbour ×2 (or to a given size), then a 3×3 conv.</summary>
public sealed class Upsample2D : nn.Module
{
    public readonly AdaptableConv2d conv;

    public Upsample2D(int channels, ScalarType? dtype = null, Device? device = null) : base(nameof(Upsample2D))
    {
        conv = new AdaptableConv2d(channels, channels, 3, padding: 1, dtype: dtype, device: device);
        RegisterComponents();
    }

    /// <param name="outputSize">Height and width to upsample to when the skip connection is not exactly twice the input.</param>
    public Tensor forward(Tensor input, long[]? outputSize = null)
    {
        using var upsampled = outputSize is null
            ? nn.functional.interpolate(input, scale_factor: [2.0, 2.0], mode: InterpolationMode.Nearest)
            : nn.functional.interpolate(input, size: outputSize, mode: InterpolationMode.Nearest);
        return conv.forward(upsampled);
    }
}
