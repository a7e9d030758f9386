using NotebookTrainer.ModelConfigs;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.Models.Clip;

/// <summary>
/// transformers' <c>CLIPTextModel</c> (keys <c>text_model.…</c>). The embeddings' position_ids buffer is not
/// part of the state dict (transformers made it non-persistent); loaders drop it from files that carry it.
/// </summary>
public sealed class CLIPTextModel : nn.Module, ICLIPTextEncoder
{
    public readonly CLIPTextTransformer text_model;

    public CLIPTextModel(CLIPTextConfig config, ScalarType? dtype = null, Device? device = null) : base(nameof(CLIPTextModel))
    {
        Config = config;
        text_model = new CLIPTextTransformer(config, dtype, device);
        RegisterComponents();
    }

    public CLIPTextConfig Config { get; }

    /// <summary>
    /// Encodes (B, ≤ max_position_embeddings) token ids. HiddenStates holds the embeddings then every layer's
    /// output (num_hidden_layers + 1 entries, transformers' <c>hidden_states</c>); LastHiddenState is the last
    /// one after final_layer_norm.
    /// </summary>
    public CLIPTextOutput forward(Tensor inputIds) => forward(inputIds, Config.NumHiddenLayers);

    /// <summary>Like <see cref="forward(Tensor)"/> but stops after <paramref name="layerCount"/> layers (clip_skip never needs the rest).</summary>
    public CLIPTextOutput forward(Tensor inputIds, int layerCount)
    {
        ICLIPTextEncoder.CheckLength(Config, inputIds);
        return text_model.forward(inputIds, layerCount);
    }
}
