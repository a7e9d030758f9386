using NotebookTrainer.Models.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.Models.UNet;

/// <summary>diffusers' <c>GEGLU</c>: one projection to twice the width, half of it gated by exact GELU of the other half.</summary>
public sealed class GEGLU : nn.Module<Tensor, Tensor>
{
    public readonly AdaptableLinear proj;

    public GEGLU(int dimIn, int dimOut, ScalarType? dtype = null, Device? device = null) : base(nameof(GEGLU))
    {
        proj = new AdaptableLinear(dimIn, dimOut * 2, true, dtype, device);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var halves = proj.forward(input).chunk(2, -1);
        return (halves[0] * nn.functional.gelu(halves[1])).MoveToOuterDisposeScope();
    }
}
