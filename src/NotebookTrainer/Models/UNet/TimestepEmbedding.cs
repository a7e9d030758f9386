using NotebookTrainer.Models.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.Models.UNet;

/// <summary>diffusers' <c>TimestepEmbedding</c>: linear_1 → SiLU → linear_2.</summary>
public sealed class TimestepEmbedding : nn.Module<Tensor, Tensor>
{
    public readonly AdaptableLinear linear_1;
    public readonly AdaptableLinear linear_2;

    public TimestepEmbedding(int inChannels, int timeEmbedDim, ScalarType? dtype = null, Device? device = null) : base(nameof(TimestepEmbedding))
    {
        linear_1 = new AdaptableLinear(inChannels, timeEmbedDim, true, dtype, device);
        linear_2 = new AdaptableLinear(timeEmbedDim, timeEmbedDim, true, dtype, device);
        RegisterComponents();
    }

    public override Tensor forward(Tensor sample)
    {
        using var hidden = nn.functional.silu(linear_1.forward(sample));
        return linear_2.forward(hidden);
    }
}
