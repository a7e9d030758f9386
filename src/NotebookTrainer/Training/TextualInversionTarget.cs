using System.Globalization;
using NotebookTrainer.Checkpoints;
using NotebookTrainer.Embeddings;
using NotebookTrainer.Networks;
using NotebookTrainer.Optimizers;
using NotebookTrainer.Tokenizers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NotebookTrainer.Training;

/// <summary>
/// train_textual_inversion.py's target: num_vectors_per_token new embedding vectors for token_string, started from
/// init_word's token vectors (cycled; or a weights file, or N(0, 0.02) as transformers initialises new rows). They are
/// their own parameter, looked up for the new token ids after the vocabulary
/// (<see cref="Models.Clip.CLIPTextEmbeddings.SetAddedTokens"/>), so every other weight, including the token
/// embedding's existing rows, stays bit-identical. Captions and sample prompts go through a tokenizer in which
/// token_string encodes as the new ids (sd-scripts adds token, token1, … and rewrites captions to them; the ids are the
/// same). Saves the A1111/ComfyUI embedding file (<see cref="TextualInversionEmbedding"/>), named after token_string
/// when output_name is not set.
/// </summary>
/// <remarks>
/// sd-scripts trains the whole embedding matrix and copies the old rows back after each step, so its max_grad_norm also
/// counts the gradients of the caption's other tokens; here clipping sees the new vectors only.
/// </remarks>
public sealed class TextualInversionTarget : TrainingTarget
{
    readonly Models.Clip.CLIPTextEmbeddings embeddings;
    readonly Parameter vectors;
    readonly string token;

    TextualInversionTarget(Models.Clip.CLIPTextEmbeddings embeddings, Parameter vectors, string token, ClipTokenizer tokenizer, double learningRate)
    {
        this.embeddings = embeddings;
        this.vectors = vectors;
        this.token = token;
        Tokenizer = tokenizer;
        ParameterGroups = [new ParameterGroup("embedding", [vectors], learningRate)];
        embeddings.SetAddedTokens(vectors);
    }

    public static TextualInversionTarget Create(TrainingConfig config, TrainingModels models, Datasets.DatasetPlan dataset, Device device, Action<string> log)
    {
        if (config.TokenString is not { } token)
            throw new TrainingException("token_string is required for Textual Inversion: the new word the embedding is learned for, e.g. token_string = \"mychar\"; put it in the captions (or name the folder 10_mychar).");
        if (config.SaveModelAs is { } format && format != "safetensors")
            throw new TrainingException($"save_model_as = \"{format}\": a Textual Inversion embedding is written as .safetensors (A1111 and ComfyUI load it; this trainer writes no pickles); remove save_model_as or set it to \"safetensors\".");
        if (!dataset.Images.Any(i => i.IsUsable && !i.IsReg && MentionsToken(i, token)))
            throw new TrainingException($"no training caption contains token_string \"{token}\", so the embedding would never be used; put \"{token}\" in the captions (or caption_prefix), or name the image folder e.g. 10_{token}.");
        if (models.TokenizerDir is not { } tokenizerDir)
            throw new TrainingException($"Textual Inversion adds a word to the tokenizer, but {models.ModelName} has no tokenizer folder; put the model's tokenizer/ (vocab.json, merges.txt) beside it.");
        if (!config.OutputNameGiven)
        {
            config.OutputName = token;
            log($"output_name: {token} (token_string, as sd-scripts names the embedding; A1111 uses the file name as the prompt word).");
        }
        var baseTokenizer = ClipTokenizer.Load(tokenizerDir);
        var embeddings = models.TextEncoder.text_model.embeddings;
        var table = embeddings.token_embedding.weight!;
        var (vocab, hidden) = (table.shape[0], table.shape[1]);
        var count = config.NumVectorsPerToken;

        Tensor initial;
        if (config.Weights is { } file)
        {
            using var loaded = TextualInversionEmbedding.Load(file);
            if (loaded.Vectors.shape[0] != count || loaded.Vectors.shape[1] != hidden)
                throw new TrainingException($"weights: {file} holds ({loaded.Vectors.shape[0]}, {loaded.Vectors.shape[1]}) vectors; this run needs ({count}, {hidden}) (num_vectors_per_token × the text encoder's width).");
            initial = loaded.Vectors.clone();
            log($"weights: starting from {file}.");
        }
        else if (config.InitWord is { } initWord)
        {
            var ids = baseTokenizer.Encode(initWord);
            if (ids.Count == 0) throw new TrainingException($"init_word \"{initWord}\" has no tokens; give a word such as \"person\" or remove init_word.");
            if (ids.Count > 1 && ids.Count != count)
                log($"note: init_word \"{initWord}\" is {ids.Count} tokens for {count} vectors, so its tokens are repeated or cut off (as in sd-scripts).");
            using var _ = no_grad();
            initial = table.index_select(0, tensor(Enumerable.Range(0, count).Select(i => (long)ids[i % ids.Count]).ToArray(), device: table.device)).to(ScalarType.Float32).cpu();
        }
        else
        {
            using var generator = new Generator((ulong)config.Seed);
            initial = randn([count, hidden], generator: generator) * 0.02;
        }
        var vectors = new Parameter(initial.to(ScalarType.Float32).to(device), requires_grad: true);
        var words = new Dictionary<string, int[]> { [token] = Enumerable.Range((int)vocab, count).ToArray() };
        ClipTokenizer tokenizer;
        try { tokenizer = baseTokenizer.WithAddedWords(words); }
        catch (ArgumentException e) { throw new TrainingException($"token_string: {e.Message}"); }
        return new TextualInversionTarget(embeddings, vectors, token, tokenizer, config.LearningRate);
    }

    static bool MentionsToken(Datasets.PlannedImage image, string token)
    {
        var words = ClipTextCleaner.Clean($"{image.Subset.CaptionPrefix} {image.Caption} {image.Subset.CaptionSuffix}");
        return System.Text.RegularExpressions.Regex.IsMatch(words, @"(?<![\p{L}\p{N}])" + System.Text.RegularExpressions.Regex.Escape(token.ToLowerInvariant()) + @"(?![\p{L}\p{N}])");
    }

    public override string Description =>
        $"Textual Inversion: {vectors.shape[0]} vector{(vectors.shape[0] == 1 ? "" : "s")} of {vectors.shape[1]} for \"{token}\" (everything else frozen)";

    public override IReadOnlyList<ParameterGroup> ParameterGroups { get; }

    public override bool TrainsTextEncoder => true;

    public override long AddedWeightBytes => vectors.numel() * 4L;

    public override string StateFileName => "embedding.safetensors";

    public override string OutputKind => "embedding";

    public override ClipTokenizer Tokenizer { get; }

    public override void SetTraining(bool training) { }

    public override Dictionary<string, Tensor> StateDict() => new(StringComparer.Ordinal) { [TextualInversionEmbedding.TensorName] = vectors };

    public override void LoadStateDict(IReadOnlyDictionary<string, Tensor> tensors)
    {
        if (!tensors.TryGetValue(TextualInversionEmbedding.TensorName, out var saved) || !saved.shape.SequenceEqual(vectors.shape))
            throw new TrainingException($"the saved embedding does not match this run (expected {TextualInversionEmbedding.TensorName} of shape [{string.Join(",", vectors.shape)}]); resume with the same num_vectors_per_token and base model.");
        using var _ = no_grad();
        vectors.copy_(saved.to(vectors.dtype).to(vectors.device));
    }

    public override void Save(string path, SaveContext c)
    {
        var architecture = c.Config.V2 ? ModelArchitecture.StableDiffusion2 : ModelArchitecture.StableDiffusion1;
        var metadata = UnetTarget.CheckpointMetadata(c, architecture, TrainingMethod.TextualInversion);
        metadata["modelspec.architecture"] += "/textual-inversion";
        metadata["ntrain.token_string"] = token;
        metadata["ntrain.num_vectors_per_token"] = vectors.shape[0].ToString(CultureInfo.InvariantCulture);
        TextualInversionEmbedding.Save(path, vectors, LoraFile.ToScalarType(LoraFile.ParsePrecision(c.Config.SavePrecision)), metadata);
    }

    public override void Dispose()
    {
        embeddings.SetAddedTokens(null);
        vectors.Dispose();
    }
}
