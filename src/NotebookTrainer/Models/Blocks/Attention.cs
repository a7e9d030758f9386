using NotebookTrainer.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NotebookTrainer.Models.Blocks;

/// <summary>
/// diffusers' <c>Attention</c> with the scaled-dot-product processor: multi-head attention over tokens, or
/// over the pixels of a (B, C, H, W) map with an optional GroupNorm and residual (the VAE mid block).
/// </summary>
public sealed class Attention : nn.Module
{
    public readonly GroupNorm? group_norm;
    public readonly AdaptableLinear to_q;
    public readonly AdaptableLinear to_k;
    public readonly AdaptableLinear to_v;
    public readonly ModuleList<nn.Module<Tensor, Tensor>> to_out;

    readonly int _heads;
    readonly bool _residualConnection;
    readonly bool _upcast;

    public Attention(int queryDim, int? crossAttentionDim, int heads, int headDim, bool bias,
        bool upcastAttention = false, int? normNumGroups = null, double normEps = 1e-5, bool residualConnection = false,
        ScalarType? dtype = null, Device? device = null) : base(nameof(Attention))
    {
        var inner = heads * headDim;
        _heads = heads;
        _residualConnection = residualConnection;
        _upcast = upcastAttention;
        if (normNumGroups is int groups)
            group_norm = Normalization.GroupNorm(groups, queryDim, normEps, dtype, device);
        to_q = new AdaptableLinear(queryDim, inner, bias, dtype, device);
        to_k = new AdaptableLinear(crossAttentionDim ?? queryDim, inner, bias, dtype, device);
        to_v = new AdaptableLinear(crossAttentionDim ?? queryDim, inner, bias, dtype, device);
        to_out = new ModuleList<nn.Module<Tensor, Tensor>>(new AdaptableLinear(inner, queryDim, true, dtype, device), nn.Dropout(0.0));
        RegisterComponents();
    }

    public Tensor forward(Tensor hiddenStates, Tensor? encoderHiddenStates = null)
    {
        using var scope = NewDisposeScope();
        var residual = hiddenStates;
        var spatial = hiddenStates.dim() == 4;
        long b = hiddenStates.shape[0], c = 0, h = 0, w = 0;
        var x = hiddenStates;
        if (spatial)
        {
            (c, h, w) = (x.shape[1], x.shape[2], x.shape[3]);
            x = x.view(b, c, h * w).transpose(1, 2);
        }
        if (group_norm is not null)
            x = group_norm.forward(x.transpose(1, 2)).transpose(1, 2);
        var context = encoderHiddenStates ?? x;

        var q = SplitHeads(to_q.forward(x));
        var k = SplitHeads(to_k.forward(context));
        var v = SplitHeads(to_v.forward(context));
        var dtype = q.dtype;
        if (dtype is ScalarType.Float16 or ScalarType.BFloat16 && (_upcast || Float32Compute.Applies(q)))
            (q, k, v) = (q.to(ScalarType.Float32), k.to(ScalarType.Float32), v.to(ScalarType.Float32));
        var attended = nn.functional.scaled_dot_product_attention(q, k, v);
        var merged = attended.transpose(1, 2).reshape(b, -1, attended.shape[1] * attended.shape[3]).to(dtype);
        var output = to_out[1].forward(to_out[0].forward(merged));
        if (spatial)
            output = output.transpose(-1, -2).reshape(b, c, h, w);
        if (_residualConnection)
            output = output + residual;
        return output.MoveToOuterDisposeScope();
    }

    Tensor SplitHeads(Tensor t) => t.view(t.shape[0], -1, _heads, t.shape[2] / _heads).transpose(1, 2);
}
