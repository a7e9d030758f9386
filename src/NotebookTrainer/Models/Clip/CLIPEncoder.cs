using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NotebookTrainer.Models.Clip;

/// <summary>transformers' <c>CLIPEncoder</c>: the stack of encoder layers.</summary>
public sealed class CLIPEncoder : nn.Module
{
    public readonly ModuleList<CLIPEncoderLayer> layers = new();

    public CLIPEncoder(ModelConfigs.CLIPTextConfig config, ScalarType? dtype = null, Device? device = null) : base(nameof(CLIPEncoder))
    {
        for (var i = 0; i < config.NumHiddenLayers; i++)
            layers.Add(new CLIPEncoderLayer(config, dtype, device));
        RegisterComponents();
    }

    /// <summary>Runs the first <paramref name="layerCount"/> layers and returns the input followed by each layer's output.</summary>
    public List<Tensor> forward(Tensor embeddings, int layerCount)
    {
        var states = new List<Tensor> { embeddings };
        for (var i = 0; i < layerCount; i++)
            states.Add(layers[i].forward(states[^1]));
        return states;
    }
}
