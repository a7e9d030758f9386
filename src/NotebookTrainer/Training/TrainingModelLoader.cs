using NotebookTrainer.Checkpoints;
using NotebookTrainer.Datasets;
using NotebookTrainer.Models;
using NotebookTrainer.Models.Vae;
using NotebookTrainer.Progress;
using NotebookTrainer.Sampling;
using NotebookTrainer.Tokenizers;
using static TorchSharp.torch;

namespace NotebookTrainer.Training;

/// <summary>pretrained_model_name_or_path → the frozen models and tokenizer a <see cref="Trainer"/> needs.</summary>
public static class TrainingModelLoader
{
    public const string EmbeddedTiny = "embedded:tiny";

    /// <summary>
    /// Loads the base model named by the config, in mixed_precision's type; for the other methods than
    /// <see cref="TrainingMethod.Network"/> in float32, so trained weights start from the file's own precision (the
    /// trainer narrows the frozen parts). <c>embedded:tiny</c> copies the embedded model (<see cref="World.WorldModel"/>) into
    /// <c>{output_dir}/base-model</c> and loads it like any checkpoint.
    /// </summary>
    public static TrainingModels Load(TrainingConfig config, Device? device = null, IProgress<ProgressUpdate>? progress = null, CancellationToken cancellationToken = default,
        TrainingMethod method = TrainingMethod.Network)
    {
        var path = config.PretrainedModelNameOrPath;
        if (path == EmbeddedTiny) path = World.WorldModel.Install(Path.Combine(Path.GetFullPath(config.OutputDir), "base-model"));
        else if (!File.Exists(path) && !Directory.Exists(path))
            throw new TrainingException($"pretrained_model_name_or_path: {path} does not exist; give a .safetensors/.ckpt file, a diffusers folder, or \"{EmbeddedTiny}\".");
        var model = StableDiffusion.Load(path, dtype: method == TrainingMethod.Network ? config.FrozenDType : ScalarType.Float32, device: device, progress: progress, cancellationToken: cancellationToken);
        if (model.IsSdxl && method != TrainingMethod.Network)
        {
            model.Dispose();
            throw new TrainingException($"pretrained_model_name_or_path: {path} is an SDXL model; on SDXL only LoRA / LoCon / LoHa training (sdxl_train_network.py) is available, not {method}. Train a network on it, or use an SD1.x or SD2.x base model.");
        }
        var tokenizerDir = model.TokenizerDir ?? Sibling(path, "tokenizer");
        if (tokenizerDir is null)
        {
            model.Dispose();
            throw new TrainingException(ClipTokenizer.MissingTokenizerHelp(path));
        }
        if (config.Vae is { } vae)
        {
            try { ReplaceVae(model.Vae, vae, device); }
            catch
            {
                model.Dispose();
                throw;
            }
        }
        var tokenizer = ClipTokenizer.Load(tokenizerDir);
        var maxTokens = config.MaxTokenLength ?? 75;
        // sd-scripts' SDXL tokenizer 2 is CLIP's vocabulary with pad_token_id 0, whatever a tokenizer_2 folder says.
        var tokenizer2 = model.IsSdxl ? tokenizer.WithPadId(0) : null;
        return new TrainingModels(model.Unet, model.TextEncoder, model.Vae, caption => tokenizer.EncodeWindows(caption, maxTokens),
            Path.GetFileName(path.TrimEnd('/', '\\')), File.Exists(path) ? FileHashes.LegacyModelHashOf(path) : null, model.IsVPrediction, tokenizerDir,
            config.Vae is { } v ? Path.GetFileName(v) : null, config.Vae is { } h ? FileHashes.LegacyModelHashOf(h) : null,
            caption => tokenizer.EncodeWeightedWindows(WeightedRuns(caption), maxTokens), path,
            model.TextEncoder2, tokenizer2 is null ? null : caption => tokenizer2.EncodeWindows(caption, maxTokens));
    }

    /// <summary>A1111 attention runs as kohya's weighted_captions reads them: it knows no BREAK, so BREAK stays text.</summary>
    internal static IEnumerable<(string, double)> WeightedRuns(string caption) =>
        PromptAttention.Parse(caption).Select(r => r.IsBreak ? ("BREAK", 1.0) : (r.Text, r.Weight));

    /// <summary>kohya's <c>vae</c>: the VAE weights of a separate file replace the base model's (kept in float32, as the trainer runs the VAE).</summary>
    static void ReplaceVae(AutoencoderKL vae, string file, Device? device)
    {
        if (!File.Exists(file))
            throw new TrainingException($"vae: {file} does not exist; give a VAE file (.safetensors, .pt or .ckpt) or remove vae to use the base model's VAE.");
        Dictionary<string, Tensor> weights;
        try { weights = VaeFile.Load(file, vae.Config); }
        catch (CheckpointFormatException e) { throw new TrainingException($"vae: {e.Message}", e); }
        try { ModuleWeights.Assign(vae, weights, file, ScalarType.Float32, device); }
        finally
        {
            foreach (var t in weights.Values) t.Dispose();
        }
    }

    static string? Sibling(string path, string folder)
    {
        var dir = Directory.Exists(path) ? path : Path.GetDirectoryName(Path.GetFullPath(path))!;
        var candidate = Path.Combine(dir, folder);
        return File.Exists(Path.Combine(candidate, "vocab.json")) ? candidate : null;
    }
}
