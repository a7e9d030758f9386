using NotebookTrainer.Models.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.Models.Clip;

/// <summary>transformers' <c>CLIPAttention</c>: causal multi-head self-attention with biased q/k/v/out projections.</summary>
public sealed class CLIPAttention : nn.Module<Tensor, Tensor>
{
    public readonly AdaptableLinear k_proj;
    public readonly AdaptableLinear v_proj;
    public readonly AdaptableLinear q_proj;
    public readonly AdaptableLinear out_proj;

    readonly int _heads;

    public CLIPAttention(int hiddenSize, int heads, ScalarType? dtype = null, Device? device = null) : base(nameof(CLIPAttention))
    {
        _heads = heads;
        k_proj = new AdaptableLinear(hiddenSize, hiddenSize, true, dtype, device);
        v_proj = new AdaptableLinear(hiddenSize, hiddenSize, true, dtype, device);
        q_proj = new AdaptableLinear(hiddenSize, hiddenSize, true, dtype, device);
        out_proj = new AdaptableLinear(hiddenSize, hiddenSize, true, dtype, device);
        RegisterComponents();
    }

    public override Tensor forward(Tensor hiddenStates)
    {
        using var scope = NewDisposeScope();
        long b = hiddenStates.shape[0], n = hiddenStates.shape[1], c = hiddenStates.shape[2];
        var widen = Float32Compute.Applies(hiddenStates);
        Tensor Heads(Tensor t) => (widen ? t.to(ScalarType.Float32) : t).view(b, n, _heads, c / _heads).transpose(1, 2);
        var attended = nn.functional.scaled_dot_product_attention(Heads(q_proj.forward(hiddenStates)), Heads(k_proj.forward(hiddenStates)),
            Heads(v_proj.forward(hiddenStates)), is_casual: true).to(hiddenStates.dtype);
        return out_proj.forward(attended.transpose(1, 2).reshape(b, n, c)).MoveToOuterDisposeScope();
    }
}
