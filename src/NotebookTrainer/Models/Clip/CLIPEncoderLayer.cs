using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NotebookTrainer.Models.Clip;

/// <summary>transformers' <c>CLIPEncoderLayer</c>: pre-norm self-attention and MLP, each added back.</summary>
public sealed class CLIPEncoderLayer : nn.Module<Tensor, Tensor>
{
    public readonly CLIPAttention self_attn;
    public readonly LayerNorm layer_norm1;
    public readonly CLIPMLP mlp;
    public readonly LayerNorm layer_norm2;

    public CLIPEncoderLayer(ModelConfigs.CLIPTextConfig config, ScalarType? dtype = null, Device? device = null) : base(nameof(CLIPEncoderLayer))
    {
        self_attn = new CLIPAttention(config.HiddenSize, config.NumAttentionHeads, dtype, device);
        layer_norm1 = nn.LayerNorm(config.HiddenSize, config.LayerNormEps, device: device, dtype: dtype);
        mlp = new CLIPMLP(config.HiddenSize, config.IntermediateSize, config.HiddenAct, dtype, device);
        layer_norm2 = nn.LayerNorm(config.HiddenSize, config.LayerNormEps, device: device, dtype: dtype);
        RegisterComponents();
    }

    public override Tensor forward(Tensor hiddenStates)
    {
        using var scope = NewDisposeScope();
        var h = hiddenStates + self_attn.forward(layer_norm1.forward(hiddenStates));
        h = h + mlp.forward(layer_norm2.forward(h));
        return h.MoveToOuterDisposeScope();
    }
}
