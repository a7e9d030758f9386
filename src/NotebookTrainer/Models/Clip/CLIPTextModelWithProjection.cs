using NotebookTrainer.ModelConfigs;
using NotebookTrainer.Models.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.Models.Clip;

/// <summary>
/// transformers' <c>CLIPTextModelWithProjection</c> (keys <c>text_model.…</c> and <c>text_projection.weight</c>), SDXL's
/// text_encoder_2: the pooled state is the final-layer-normed last state at each row's highest token id (the EOS token,
/// argmax as transformers 4.27 takes it), projected without bias.
/// </summary>
public sealed class CLIPTextModelWithProjection : nn.Module, ICLIPTextEncoder
{
    public readonly CLIPTextTransformer text_model;
    public readonly AdaptableLinear text_projection;

    public CLIPTextModelWithProjection(CLIPTextConfig config, ScalarType? dtype = null, Device? device = null) : base(nameof(CLIPTextModelWithProjection))
    {
        Config = config;
        text_model = new CLIPTextTransformer(config, dtype, device);
        text_projection = new AdaptableLinear(config.HiddenSize, config.ProjectionDim, false, dtype, device);
        RegisterComponents();
    }

    public CLIPTextConfig Config { get; }

    public CLIPTextOutput forward(Tensor inputIds, int layerCount)
    {
        ICLIPTextEncoder.CheckLength(Config, inputIds);
        return text_model.forward(inputIds, layerCount);
    }

    /// <summary>Runs every layer; returns the projected pooled state (B, projection_dim) with the hidden states.</summary>
    public (Tensor TextEmbeds, CLIPTextOutput Output) forward(Tensor inputIds)
    {
        var output = forward(inputIds, Config.NumHiddenLayers);
        using var scope = NewDisposeScope();
        var eos = inputIds.argmax(-1).to(ScalarType.Int64);
        var rows = arange(inputIds.shape[0], dtype: ScalarType.Int64, device: inputIds.device);
        var pooled = output.LastHiddenState.index(rows, eos.to(output.LastHiddenState.device));
        return (text_projection.forward(pooled).MoveToOuterDisposeScope(), output);
    }
}
