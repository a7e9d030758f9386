using NotebookTrainer.ModelConfigs;
using static TorchSharp.torch;

namespace NotebookTrainer.Models.Clip;

/// <summary>What <see cref="CLIPTextModel"/> and <see cref="CLIPTextModelWithProjection"/> share for prompt encoding.</summary>
public interface ICLIPTextEncoder
{
    CLIPTextConfig Config { get; }

    /// <summary>The embeddings and the first <paramref name="layerCount"/> layers' outputs, and the last through final_layer_norm.</summary>
    CLIPTextOutput forward(Tensor inputIds, int layerCount);

    internal static void CheckLength(CLIPTextConfig config, Tensor inputIds)
    {
        if (inputIds.shape[1] > config.MaxPositionEmbeddings)
            throw new ArgumentException($"{inputIds.shape[1]} tokens exceed the text encoder's {config.MaxPositionEmbeddings} positions; split longer prompts into windows (TextEncoding.Encode).");
    }
}

/// <summary>What <see cref="CLIPTextModel"/> returns; disposing it disposes every state.</summary>
public sealed record CLIPTextOutput(Tensor LastHiddenState, IReadOnlyList<Tensor> HiddenStates) : IDisposable
{
    public void Dispose()
    {
        LastHiddenState.Dispose();
        foreach (var state in HiddenStates)
            state.Dispose();
    }
}
