using System.Globalization;
using System.Text.Json.Nodes;
using NotebookTrainer.Checkpoints;
using NotebookTrainer.IO;
using NotebookTrainer.Models;
using NotebookTrainer.Models.Configs;
using NotebookTrainer.Networks;
using NotebookTrainer.Optimizers;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.Training;

/// <summary>
/// fine_tune.py's target: every U-Net weight trains (kept in fp32, or in bf16/fp16 with full_bf16/full_fp16); the text
/// encoder and VAE stay frozen. Saves a full single-file checkpoint in the LDM layout of the base model's architecture
/// (SD 2.x with v2), with modelspec.* metadata and the run's settings under ntrain.*, and the diffusers configs
/// (<c>config/</c>) and tokenizer beside it.
/// </summary>
public sealed class UnetTarget : TrainingTarget
{
    readonly TrainingModels models;

    public UnetTarget(TrainingConfig config, TrainingModels models, Device device)
    {
        this.models = models;
        var dtype = config.FullBf16 ? ScalarType.BFloat16 : config.FullFp16 ? ScalarType.Float16 : ScalarType.Float32;
        models.Unet.to(dtype).to(device);
        foreach (var p in models.Unet.parameters()) p.requires_grad = true;
        models.Unet.train();
        ParameterGroups = [new ParameterGroup("unet", models.Unet.parameters().ToList(), config.UnetLr ?? config.LearningRate)];
    }

    public override string Description => $"U-Net, all {models.Unet.parameters().Sum(p => p.numel()).ToString("N0", CultureInfo.InvariantCulture)} weights (text encoder and VAE frozen)";

    public override IReadOnlyList<ParameterGroup> ParameterGroups { get; }

    public override bool TrainsTextEncoder => false;

    public override long AddedWeightBytes => 0;

    public override string StateFileName => "unet.safetensors";

    public override string OutputKind => "checkpoint";

    public override void SetTraining(bool training) => models.Unet.train(training);

    public override Dictionary<string, Tensor> StateDict() => models.Unet.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);

    public override void LoadStateDict(IReadOnlyDictionary<string, Tensor> tensors)
    {
        var own = StateDict();
        var missing = own.Keys.Where(k => !tensors.ContainsKey(k)).ToList();
        if (missing.Count > 0 || tensors.Count != own.Count)
            throw new TrainingException($"the saved U-Net weights do not match this U-Net ({missing.Count} missing, e.g. {missing.FirstOrDefault()}); resume with the same base model.");
        using var _ = no_grad();
        foreach (var (key, target) in own)
        {
            var source = tensors[key];
            if (!source.shape.SequenceEqual(target.shape))
                throw new TrainingException($"{key}: shape [{string.Join(",", source.shape)}] in the state, [{string.Join(",", target.shape)}] in the U-Net; resume with the same base model.");
            target.copy_(source.to(target.dtype).to(target.device));
        }
    }

    /// <summary>The three models as one checkpoint: the U-Net as trained, text encoder and VAE as loaded.</summary>
    public override void Save(string path, SaveContext c)
    {
        var architecture = c.Config.V2 ? ModelArchitecture.StableDiffusion2 : ModelArchitecture.StableDiffusion1;
        var scheduler = c.Models.VPrediction ? NoiseSchedulerConfig.VPrediction : NoiseSchedulerConfig.Epsilon;
        var configs = new DiffusersConfigs((JsonObject)JsonNode.Parse(models.Unet.Config.ToJson())!, (JsonObject)JsonNode.Parse(models.Vae.Config.ToJson())!,
            (JsonObject)JsonNode.Parse(models.TextEncoder.Config.ToJson())!, (JsonObject)JsonNode.Parse(scheduler.ToJson())!, c.Models.ModelName);
        using var weights = new StableDiffusionWeights(architecture, configs);
        // Aliases: the checkpoint disposes its tensors, the modules keep theirs.
        foreach (var (component, module) in new (string, TorchSharp.torch.nn.Module)[] { ("unet", models.Unet), ("vae", models.Vae), ("text_encoder", models.TextEncoder) })
            foreach (var (name, tensor) in module.state_dict())
                weights.Components[component][name] = tensor.detach().alias();
        var precision = LoraFile.ParsePrecision(c.Config.SavePrecision);
        CheckpointWriter.WriteSingleFile(weights, path, LoraFile.ToScalarType(precision), CheckpointMetadata(c, architecture));
        // Beside the file, as the tiny models ship: the configs say what the weights are when they are not SD 1.5 / 2.1's.
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        configs.Write(Path.Combine(dir, TinyStableDiffusion.ConfigFolder));
        if (c.Models.TokenizerDir is { } tokenizer && Path.GetFullPath(tokenizer) != Path.Combine(dir, TinyStableDiffusion.TokenizerFolder))
            foreach (var file in Directory.GetFiles(tokenizer))
                AtomicFile.WriteAllBytes(Path.Combine(dir, TinyStableDiffusion.TokenizerFolder, Path.GetFileName(file)), File.ReadAllBytes(file));
    }

    static Dictionary<string, string> CheckpointMetadata(SaveContext c, ModelArchitecture architecture)
    {
        static string I(long v) => v.ToString(CultureInfo.InvariantCulture);
        var meta = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["modelspec.sai_model_spec"] = "1.0.0",
            ["modelspec.architecture"] = architecture == ModelArchitecture.StableDiffusion2 ? (c.Config.VParameterization ? "stable-diffusion-v2-768-v" : "stable-diffusion-v2-512") : "stable-diffusion-v1",
            ["modelspec.implementation"] = "https://github.com/Stability-AI/generative-models",
            ["modelspec.title"] = c.Config.OutputName,
            ["modelspec.resolution"] = c.Dataset.Config.Datasets.FirstOrDefault()?.Resolution is { } r ? $"{r.Width}x{r.Height}" : "512x512",
            ["modelspec.prediction_type"] = c.Models.VPrediction ? "v" : "epsilon",
            ["ntrain.training_method"] = "fine_tune",
            ["ntrain.base_model"] = c.Models.ModelName,
            ["ntrain.epoch"] = I(c.Epoch),
            ["ntrain.steps"] = I(c.Step),
            ["ntrain.seed"] = I(c.Config.Seed),
            ["ntrain.learning_rate"] = c.Config.LearningRate.ToString("R", CultureInfo.InvariantCulture),
            ["ntrain.optimizer"] = c.Optimizer,
            ["ntrain.train_images"] = I(c.Dataset.NumTrainImages),
        };
        foreach (var (key, value) in c.Config.ModelSpec) meta["modelspec." + key] = value;
        return meta;
    }

    public override void Dispose() { }
}
