using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NotebookTrainer.Models.Clip;

/// <summary>transformers' <c>CLIPTextEmbeddings</c>: token embedding plus learned absolute position embedding.</summary>
public sealed class CLIPTextEmbeddings : nn.Module<Tensor, Tensor>
{
    public readonly Embedding token_embedding;
    public readonly Embedding position_embedding;

    public CLIPTextEmbeddings(int vocabSize, int hiddenSize, int maxPositions, ScalarType? dtype = null, Device? device = null)
        : base(nameof(CLIPTextEmbeddings))
    {
        token_embedding = nn.Embedding(vocabSize, hiddenSize, device: device, dtype: dtype);
        position_embedding = nn.Embedding(maxPositions, hiddenSize, device: device, dtype: dtype);
        RegisterComponents();
    }

    public override Tensor forward(Tensor inputIds)
    {
        using var positions = arange(inputIds.shape[1], dtype: ScalarType.Int64, device: inputIds.device).unsqueeze(0);
        using var tokens = token_embedding.forward(inputIds);
        using var placed = position_embedding.forward(positions);
        return tokens + placed;
    }
}
