using NotebookTrainer.Models.Blocks;
using NotebookTrainer.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NotebookTrainer.Models.UNet;

/// <summary>
/// diffusers' <c>Transformer2DModel</c> for continuous inputs: GroupNorm(eps 1e-6), proj_in (1×1 conv, or
/// Linear for SD 2.x/SDXL use_linear_projection), <c>num_layers</c> transformer blocks over the H·W tokens, proj_out, residual.
/// </summary>
public sealed class Transformer2DModel : nn.Module
{
    public readonly GroupNorm norm;
    public readonly nn.Module<Tensor, Tensor> proj_in;
    public readonly ModuleList<BasicTransformerBlock> transformer_blocks;
    public readonly nn.Module<Tensor, Tensor> proj_out;

    readonly bool _linearProjection;

    public Transformer2DModel(int heads, int headDim, int inChannels, int numLayers, int crossAttentionDim, int normNumGroups,
        bool useLinearProjection, bool upcastAttention, ScalarType? dtype = null, Device? device = null) : base(nameof(Transformer2DModel))
    {
        var inner = heads * headDim;
        _linearProjection = useLinearProjection;
        norm = Normalization.GroupNorm(normNumGroups, inChannels, 1e-6, dtype, device);
        proj_in = useLinearProjection
            ? new AdaptableLinear(inChannels, inner, true, dtype, device)
            : new AdaptableConv2d(inChannels, inner, 1, dtype: dtype, device: device);
        transformer_blocks = new ModuleList<BasicTransformerBlock>(Enumerable.Range(0, numLayers)
            .Select(_ => new BasicTransformerBlock(inner, heads, headDim, crossAttentionDim, upcastAttention, dtype, device)).ToArray());
        proj_out = useLinearProjection
            ? new AdaptableLinear(inner, inChannels, true, dtype, device)
            : new AdaptableConv2d(inner, inChannels, 1, dtype: dtype, device: device);
        RegisterComponents();
    }

    public Tensor forward(Tensor hiddenStates, Tensor encoderHiddenStates)
    {
        using var scope = NewDisposeScope();
        long b = hiddenStates.shape[0], h = hiddenStates.shape[2], w = hiddenStates.shape[3];
        var x = norm.forward(hiddenStates);
        if (_linearProjection)
            x = proj_in.forward(x.permute(0, 2, 3, 1).reshape(b, h * w, -1));
        else
        {
            x = proj_in.forward(x);
            x = x.permute(0, 2, 3, 1).reshape(b, h * w, x.shape[1]);
        }
        foreach (var block in transformer_blocks)
            x = block.forward(x, encoderHiddenStates);
        if (_linearProjection)
            x = proj_out.forward(x).reshape(b, h, w, -1).permute(0, 3, 1, 2).contiguous();
        else
            x = proj_out.forward(x.reshape(b, h, w, -1).permute(0, 3, 1, 2).contiguous());
        return (x + hiddenStates).MoveToOuterDisposeScope();
    }
}
