using NotebookTrainer.Models.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.Models.Clip;

/// <summary>transformers' <c>CLIPMLP</c>: fc1 → quick_gelu (x·σ(1.702x), SD 1.x) or exact GELU (SD 2.x) → fc2.</summary>
public sealed class CLIPMLP : nn.Module<Tensor, Tensor>
{
    public readonly AdaptableLinear fc1;
    public readonly AdaptableLinear fc2;

    readonly bool _quickGelu;

    public CLIPMLP(int hiddenSize, int intermediateSize, string hiddenAct, ScalarType? dtype = null, Device? device = null) : base(nameof(CLIPMLP))
    {
        _quickGelu = hiddenAct == "quick_gelu";
        fc1 = new AdaptableLinear(hiddenSize, intermediateSize, true, dtype, device);
        fc2 = new AdaptableLinear(intermediateSize, hiddenSize, true, dtype, device);
        RegisterComponents();
    }

    public override Tensor forward(Tensor hiddenStates)
    {
        using var scope = NewDisposeScope();
        var h = fc1.forward(hiddenStates);
        h = _quickGelu ? h * (h * 1.702).sigmoid() : nn.functional.gelu(h);
        return fc2.forward(h).MoveToOuterDisposeScope();
    }
}
