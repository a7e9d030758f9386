using NotebookTrainer.Models.Blocks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NotebookTrainer.Models.UNet;

/// <summary>
/// diffusers' <c>BasicTransformerBlock</c> (layer_norm, GEGLU): self-attention, cross-attention on the text
/// states, feed-forward; each pre-normed with LayerNorm(eps 1e-5) and added back.
/// </summary>
public sealed class BasicTransformerBlock : nn.Module
{
    public readonly LayerNorm norm1;
    public readonly Attention attn1;
    public readonly LayerNorm norm2;
    public readonly Attention attn2;
    public readonly LayerNorm norm3;
    public readonly FeedForward ff;

    public BasicTransformerBlock(int dim, int heads, int headDim, int crossAttentionDim, bool upcastAttention,
        ScalarType? dtype = null, Device? device = null) : base(nameof(BasicTransformerBlock))
    {
        norm1 = nn.LayerNorm(dim, 1e-5, device: device, dtype: dtype);
        attn1 = new Attention(dim, null, heads, headDim, bias: false, upcastAttention, dtype: dtype, device: device);
        norm2 = nn.LayerNorm(dim, 1e-5, device: device, dtype: dtype);
        attn2 = new Attention(dim, crossAttentionDim, heads, headDim, bias: false, upcastAttention, dtype: dtype, device: device);
        norm3 = nn.LayerNorm(dim, 1e-5, device: device, dtype: dtype);
        ff = new FeedForward(dim, dtype, device);
        RegisterComponents();
    }

    public Tensor forward(Tensor hiddenStates, Tensor encoderHiddenStates)
    {
        using var scope = NewDisposeScope();
        var h = attn1.forward(norm1.forward(hiddenStates)) + hiddenStates;
        h = attn2.forward(norm2.forward(h), encoderHiddenStates) + h;
        h = ff.forward(norm3.forward(h)) + h;
        return h.MoveToOuterDisposeScope();
    }
}
