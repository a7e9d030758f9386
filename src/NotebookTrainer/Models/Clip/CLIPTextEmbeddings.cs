using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NotebookTrainer.Models.Clip;

/// <summary>
/// transformers' <c>CLIPTextEmbeddings</c>: token embedding plus learned absolute position embedding. Token ids from
/// the vocabulary size on look up <see cref="AddedTokens"/> instead (Textual Inversion vectors), which are kept apart
/// from the token embedding so the model's own rows and its state dict never change.
/// </summary>
public sealed class CLIPTextEmbeddings : nn.Module<Tensor, Tensor>
{
    public readonly Embedding token_embedding;
    public readonly Embedding position_embedding;

    // Not a Tensor field, so module registration never takes it for a parameter or buffer.
    AddedTokenVectors? added;

    public CLIPTextEmbeddings(int vocabSize, int hiddenSize, int maxPositions, ScalarType? dtype = null, Device? device = null)
        : base(nameof(CLIPTextEmbeddings))
    {
        token_embedding = nn.Embedding(vocabSize, hiddenSize, device: device, dtype: dtype);
        position_embedding = nn.Embedding(maxPositions, hiddenSize, device: device, dtype: dtype);
        RegisterComponents();
    }

    /// <summary>Vectors (n, hidden) for token ids vocab_size … vocab_size + n − 1, or null; owned by the caller.</summary>
    public Tensor? AddedTokens => added?.Vectors;

    /// <summary>Sets (or with null removes) the vectors of the ids after the vocabulary; the caller keeps them on this module's device.</summary>
    public void SetAddedTokens(Tensor? vectors)
    {
        if (vectors is not null && (vectors.dim() != 2 || vectors.shape[1] != token_embedding.weight!.shape[1]))
            throw new ArgumentException($"added token vectors must be (n, {token_embedding.weight!.shape[1]}), got ({string.Join(", ", vectors.shape)}).", nameof(vectors));
        added = vectors is null ? null : new AddedTokenVectors(vectors);
    }

    public override Tensor forward(Tensor inputIds)
    {
        using var positions = arange(inputIds.shape[1], dtype: ScalarType.Int64, device: inputIds.device).unsqueeze(0);
        using var tokens = added is null ? token_embedding.forward(inputIds) : TokensWithAdded(inputIds, added.Vectors);
        using var placed = position_embedding.forward(positions);
        return tokens + placed;
    }

    Tensor TokensWithAdded(Tensor inputIds, Tensor vectors)
    {
        using var scope = NewDisposeScope();
        var vocab = token_embedding.weight!.shape[0];
        var count = vectors.shape[0];
        var isAdded = inputIds >= vocab;
        if (inputIds.max().item<long>() >= vocab + count)
            throw new ArgumentException($"token id {inputIds.max().item<long>()} is past the {vocab} vocabulary entries and the {count} added vectors.", nameof(inputIds));
        var own = token_embedding.forward(inputIds.masked_fill(isAdded, 0));
        var extra = vectors.to(own.dtype).index_select(0, (inputIds - vocab).clamp(0, count - 1).flatten()).reshape(own.shape);
        return where(isAdded.unsqueeze(-1), extra, own).MoveToOuterDisposeScope();
    }

    sealed record AddedTokenVectors(Tensor Vectors);
}
