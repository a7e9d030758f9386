using NotebookTrainer.Checkpoints;
using NotebookTrainer.Models.Clip;
using NotebookTrainer.SafeTensors;
using NotebookTrainer.Tokenizers;
using static TorchSharp.torch;

namespace NotebookTrainer.Embeddings;

/// <summary>
/// A Textual Inversion embedding: <see cref="Vectors"/> (n, hidden) that a prompt word stands for. Files are what
/// sd-scripts' train_textual_inversion.py writes and A1111 and ComfyUI load: a safetensors file with one tensor,
/// <c>emb_params</c>, of shape (num_vectors_per_token, hidden); the word is the file name without its extension, as in
/// A1111. Files with one tensor under another name and top-level pickles (<c>.pt</c>, read without executing code) are
/// read too; A1111's own <c>.pt</c> format (string_to_param) is not.
/// </summary>
public sealed class TextualInversionEmbedding : IDisposable
{
    public const string TensorName = "emb_params";

    public TextualInversionEmbedding(string word, Tensor vectors)
    {
        Word = word;
        Vectors = vectors;
    }

    /// <summary>The prompt word, e.g. "mychar".</summary>
    public string Word { get; }

    /// <summary>(n, hidden), float32 on the CPU unless moved.</summary>
    public Tensor Vectors { get; }

    public static TextualInversionEmbedding Load(string path, string? word = null)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: embedding file not found.", path);
        word ??= Path.GetFileNameWithoutExtension(path);
        using ITensorSource source = PickleCheckpoint.LooksLikePickle(path) ? PickleCheckpoint.Open(path) : SafeTensorsSource.Open(path);
        if (source.Names.Contains("clip_l") || source.Names.Contains("clip_g"))
            throw new InvalidDataException($"{path}: an SDXL embedding (clip_l/clip_g); this trainer uses SD 1.x/2.x models, whose embeddings have one tensor, {TensorName}.");
        var name = source.Names.Contains(TensorName) ? TensorName
            : source.Names.Count == 1 ? source.Names.First()
            : throw new InvalidDataException($"{path}: {source.Names.Count} tensors ({string.Join(", ", source.Names.Take(5))}); an embedding file has one, '{TensorName}' (A1111 and ComfyUI refuse the others too).");
        var vectors = source.Load(name, ScalarType.Float32);
        if (vectors.dim() == 1) vectors = vectors.unsqueeze(0);
        if (vectors.dim() != 2 || vectors.shape[0] < 1)
            throw new InvalidDataException($"{path}: '{name}' has shape [{string.Join(", ", vectors.shape)}]; an embedding is (vectors, hidden size).");
        return new TextualInversionEmbedding(word, vectors);
    }

    /// <summary>Writes <c>{emb_params: vectors}</c> in <paramref name="dtype"/> with <paramref name="metadata"/>, atomically.</summary>
    public static void Save(string path, Tensor vectors, ScalarType dtype = ScalarType.Float32, IReadOnlyDictionary<string, string>? metadata = null)
    {
        using var scope = NewDisposeScope();
        SafeTensorsWriter.Write(path, [new(TensorName, vectors.detach().cpu().to(dtype).contiguous())], metadata);
    }

    /// <summary>
    /// Makes prompts able to use <paramref name="embeddings"/>: each one's vectors become token ids after the text
    /// encoder's vocabulary (in order) and its word encodes as those ids in the returned tokenizer.
    /// </summary>
    public static ClipTokenizer Apply(IReadOnlyList<TextualInversionEmbedding> embeddings, ClipTokenizer tokenizer, CLIPTextModel textEncoder)
    {
        var embeddingsModule = textEncoder.text_model.embeddings;
        var weight = embeddingsModule.token_embedding.weight!;
        var vocab = weight.shape[0];
        var hidden = weight.shape[1];
        var words = new Dictionary<string, int[]>(StringComparer.Ordinal);
        var next = (int)vocab;
        foreach (var e in embeddings)
        {
            if (e.Vectors.shape[1] != hidden)
                throw new InvalidDataException($"embedding '{e.Word}' has vectors of size {e.Vectors.shape[1]}; this text encoder's are {hidden} (SD 1.x: 768, SD 2.x: 1024); it was trained for another model family.");
            words[e.Word] = Enumerable.Range(next, (int)e.Vectors.shape[0]).ToArray();
            next += (int)e.Vectors.shape[0];
        }
        var withWords = tokenizer.WithAddedWords(words);
        embeddingsModule.SetAddedTokens(embeddings.Count == 0 ? null
            : cat(embeddings.Select(e => e.Vectors).ToList(), 0).to(weight.dtype).to(weight.device));
        return withWords;
    }

    public void Dispose() => Vectors.Dispose();
}
