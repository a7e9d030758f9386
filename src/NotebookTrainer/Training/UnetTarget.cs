using System.Globalization;
using System.Text.Json.Nodes;
using NotebookTrainer.Checkpoints;
using NotebookTrainer.IO;
using NotebookTrainer.Models;
using NotebookTrainer.ModelConfigs;
using NotebookTrainer.Networks;
using NotebookTrainer.Optimizers;
using NotebookTrainer.World;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.Training;

/// <summary>
/// fine_tune.py's and train_db.py's target: every U-Net weight trains, and the text encoder's with train_text_encoder
/// (fine-tuning) or until stop_text_encoder_training (DreamBooth: from the start unless it is negative), kept in fp32,
/// or in bf16/fp16 with full_bf16/full_fp16; the VAE stays frozen. Saves a full checkpoint: a single file with exactly
/// the base file's keys and layout (<see cref="CheckpointWriter.WriteSingleFileLike"/>), with modelspec.* metadata and
/// the run's settings under ntrain.*, and the diffusers configs (<c>config/</c>) and tokenizer beside it; or, with
/// save_model_as = "diffusers" / "diffusers_safetensors", a diffusers folder.
/// </summary>
public sealed class UnetTarget : TrainingTarget
{
    readonly TrainingModels models;
    readonly TrainingMethod method;
    readonly Action<string> log;
    readonly int? textEncoderSteps;
    readonly bool diffusersFolder;
    bool textEncoderTraining;

    public UnetTarget(TrainingConfig config, TrainingModels models, Device device, TrainingMethod method = TrainingMethod.FineTune, Action<string>? log = null)
    {
        this.models = models;
        this.method = method;
        this.log = log ?? (_ => { });
        diffusersFolder = SavesDiffusersFolder(config, models);
        var dtype = config.FullBf16 ? ScalarType.BFloat16 : config.FullFp16 ? ScalarType.Float16 : ScalarType.Float32;
        models.Unet.to(dtype).to(device);
        foreach (var p in models.Unet.parameters()) p.requires_grad = true;
        models.Unet.train();
        var groups = new List<ParameterGroup> { new("unet", models.Unet.parameters().ToList(), config.UnetLr ?? config.LearningRate) };
        textEncoderTraining = TrainsTextEncoderWeights(method, config);
        if (textEncoderTraining)
        {
            textEncoderSteps = config.StopTextEncoderTraining;
            models.TextEncoder.to(dtype).to(device);
            foreach (var p in models.TextEncoder.parameters()) p.requires_grad = true;
            models.TextEncoder.train();
            groups.Add(new ParameterGroup("text_encoder", models.TextEncoder.parameters().ToList(), config.LearningRateTe ?? config.LearningRate));
        }
        else if (method == TrainingMethod.FineTune && config.StopTextEncoderTraining is not null)
            this.log("note: stop_text_encoder_training has no effect without train_text_encoder = true.");
        if (method == TrainingMethod.DreamBooth && config.TrainTextEncoder)
            this.log("note: train_text_encoder is a fine_tune.py option; DreamBooth trains the text encoder unless stop_text_encoder_training is negative.");
        ParameterGroups = groups;
    }

    /// <summary>save_model_as, or the base model's format when it is unset (a single file for .safetensors/.ckpt bases, a folder for diffusers bases).</summary>
    static bool SavesDiffusersFolder(TrainingConfig config, TrainingModels models) => config.SaveModelAs switch
    {
        "diffusers" or "diffusers_safetensors" => true,
        "safetensors" => false,
        "ckpt" or "pt" => throw new TrainingException($"save_model_as = \"{config.SaveModelAs}\": this trainer does not write pickle files (they can run code when loaded); use \"safetensors\" (A1111, ComfyUI and sd-scripts read it) or \"diffusers_safetensors\"."),
        _ => models.BasePath is { } path && Directory.Exists(path),
    };

    public override string Description
    {
        get
        {
            var unet = models.Unet.parameters().Sum(p => p.numel()).ToString("N0", CultureInfo.InvariantCulture);
            if (ParameterGroups.Count == 1) return $"U-Net, all {unet} weights (text encoder and VAE frozen)";
            var text = models.TextEncoder.parameters().Sum(p => p.numel()).ToString("N0", CultureInfo.InvariantCulture);
            var until = textEncoderSteps is { } s ? $" for the first {s} steps" : "";
            return $"U-Net, all {unet} weights, and the text encoder's {text}{until} (VAE frozen)";
        }
    }

    public override IReadOnlyList<ParameterGroup> ParameterGroups { get; }

    public override bool TrainsTextEncoder => textEncoderTraining;

    public override long AddedWeightBytes => 0;

    public override string StateFileName => "unet.safetensors";

    public override string OutputKind => diffusersFolder ? "diffusers model" : "checkpoint";

    public override string OutputExtension => diffusersFolder ? "" : ".safetensors";

    /// <summary>
    /// train_db.py's stop_text_encoder_training: from that step on the text encoder's weights get no gradients, so the
    /// optimizer skips them (torch optimizers skip parameters whose grad is None).
    /// </summary>
    public override void BeforeStep(int step)
    {
        if (!textEncoderTraining || textEncoderSteps is not { } stop || step < stop) return;
        foreach (var p in models.TextEncoder.parameters())
        {
            p.requires_grad = false;
            p.grad = null;
        }
        models.TextEncoder.eval();
        textEncoderTraining = false;
        log($"stop text encoder training at step {step} (stop_text_encoder_training = {stop}).");
    }

    public override void SetTraining(bool training)
    {
        models.Unet.train(training);
        if (textEncoderTraining) models.TextEncoder.train(training);
    }

    /// <summary>The U-Net's tensors under their own names, and the text encoder's under <c>text_encoder.</c> when it trains.</summary>
    public override Dictionary<string, Tensor> StateDict()
    {
        var tensors = models.Unet.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        if (ParameterGroups.Count > 1)
            foreach (var (name, tensor) in models.TextEncoder.state_dict()) tensors[TextEncoderPrefix + name] = tensor;
        return tensors;
    }

    const string TextEncoderPrefix = "text_encoder.";

    public override void LoadStateDict(IReadOnlyDictionary<string, Tensor> tensors)
    {
        var own = StateDict();
        var missing = own.Keys.Where(k => !tensors.ContainsKey(k)).ToList();
        if (missing.Count > 0 || tensors.Count != own.Count)
            throw new TrainingException($"the saved weights do not match this run ({missing.Count} missing, e.g. {missing.FirstOrDefault()}; {tensors.Count} saved, {own.Count} expected); resume with the same base model and the same text encoder setting.");
        using var _ = no_grad();
        foreach (var (key, target) in own)
        {
            var source = tensors[key];
            if (!source.shape.SequenceEqual(target.shape))
                throw new TrainingException($"{key}: shape [{string.Join(",", source.shape)}] in the state, [{string.Join(",", target.shape)}] in the model; resume with the same base model.");
            target.copy_(source.to(target.dtype).to(target.device));
        }
    }

    /// <summary>The three models as one checkpoint: the U-Net (and text encoder) as trained, the rest as loaded.</summary>
    public override void Save(string path, SaveContext c)
    {
        var architecture = c.Config.V2 ? ModelArchitecture.StableDiffusion2 : ModelArchitecture.StableDiffusion1;
        var scheduler = c.Models.VPrediction ? NoiseSchedulerConfig.VPrediction : NoiseSchedulerConfig.Epsilon;
        var configs = new DiffusersConfigs((JsonObject)JsonNode.Parse(models.Unet.Config.ToJson())!, (JsonObject)JsonNode.Parse(models.Vae.Config.ToJson())!,
            (JsonObject)JsonNode.Parse(models.TextEncoder.Config.ToJson())!, (JsonObject)JsonNode.Parse(scheduler.ToJson())!, c.Models.ModelName);
        using var weights = new StableDiffusionWeights(architecture, configs) { TokenizerDir = c.Models.TokenizerDir };
        // Aliases: the checkpoint disposes its tensors, the modules keep theirs.
        foreach (var (component, module) in new (string, nn.Module)[] { ("unet", models.Unet), ("vae", models.Vae), ("text_encoder", models.TextEncoder) })
            foreach (var (name, tensor) in module.state_dict())
                weights.Components[component][name] = tensor.detach().alias();
        var dtype = LoraFile.ToScalarType(LoraFile.ParsePrecision(c.Config.SavePrecision));
        if (diffusersFolder)
        {
            AtomicFile.WriteDirectory(path, dir => CheckpointWriter.WriteDiffusersFolder(weights, dir, dtype));
            return;
        }
        if (c.Models.BasePath is { } basePath && File.Exists(basePath))
            CheckpointWriter.WriteSingleFileLike(basePath, weights, path, dtype, CheckpointMetadata(c, architecture, method));
        else
            CheckpointWriter.WriteSingleFile(weights, path, dtype, CheckpointMetadata(c, architecture, method));
        // Beside the file, as the tiny models ship: the configs say what the weights are when they are not SD 1.5 / 2.1's.
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        configs.Write(Path.Combine(dir, TinyStableDiffusion.ConfigFolder));
        if (c.Models.TokenizerDir is { } tokenizer && Path.GetFullPath(tokenizer) != Path.Combine(dir, TinyStableDiffusion.TokenizerFolder))
            foreach (var file in Directory.GetFiles(tokenizer))
                AtomicFile.WriteAllBytes(Path.Combine(dir, TinyStableDiffusion.TokenizerFolder, Path.GetFileName(file)), File.ReadAllBytes(file));
    }

    internal static Dictionary<string, string> CheckpointMetadata(SaveContext c, ModelArchitecture architecture, TrainingMethod method)
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
            ["ntrain.training_method"] = method switch
            {
                TrainingMethod.DreamBooth => "dreambooth",
                TrainingMethod.TextualInversion => "textual_inversion",
                _ => "fine_tune",
            },
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
