using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NotebookTrainer.Models.Clip;

/// <summary>transformers' <c>CLIPTextTransformer</c>: embeddings, encoder, final_layer_norm.</summary>
public sealed class CLIPTextTransformer : nn.Module
{
    public readonly CLIPTextEmbeddings embeddings;
    public readonly CLIPEncoder encoder;
    public readonly LayerNorm final_layer_norm;

    public CLIPTextTransformer(ModelConfigs.CLIPTextConfig config, ScalarType? dtype = null, Device? device = null) : base(nameof(CLIPTextTransformer))
    {
        embeddings = new CLIPTextEmbeddings(config.VocabSize, config.HiddenSize, config.MaxPositionEmbeddings, dtype, device);
        encoder = new CLIPEncoder(config, dtype, device);
        final_layer_norm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps, device: device, dtype: dtype);
        RegisterComponents();
    }

    /// <summary>Runs the first <paramref name="layerCount"/> layers; LastHiddenState is the last of them after final_layer_norm.</summary>
    public CLIPTextOutput forward(Tensor inputIds, int layerCount)
    {
        var states = encoder.forward(embeddings.forward(inputIds), layerCount);
        return new CLIPTextOutput(final_layer_norm.forward(states[^1]), states);
    }
}
