using System.Globalization;
using NotebookTrainer.Configuration;
using NotebookTrainer.Datasets.Config;
using NotebookTrainer.Networks;
using NotebookTrainer.Optimizers;

namespace NotebookTrainer.Training;

/// <summary>
/// A kohya training config: TOML whose keys are sd-scripts' argument names. Like kohya's --config_file, keys may
/// sit at top level or inside any [section] (sections are flattened). Unknown keys, wrong types and impossible
/// combinations are errors naming file, line and key.
/// </summary>
public sealed partial class TrainingConfig
{
    public string? SourcePath { get; private set; }

    // Model and network
    public string PretrainedModelNameOrPath { get; set; } = "";
    public bool V2 { get; set; }
    public bool VParameterization { get; set; }
    public string NetworkModule { get; set; } = "networks.lora";
    public int NetworkDim { get; set; } = 4;
    public double? NetworkAlpha { get; set; } = 1;
    public List<string> NetworkArgs { get; set; } = [];
    public double NetworkDropout { get; set; }
    public string? NetworkWeights { get; set; }
    public bool NetworkTrainUnetOnly { get; set; }
    public bool NetworkTrainTextEncoderOnly { get; set; }
    /// <summary>A separate VAE file (.safetensors/.pt/.ckpt, LDM or diffusers names) replacing the base model's VAE.</summary>
    public string? Vae { get; set; }
    /// <summary>kohya's max-norm regularisation of each LoRA module's up·down after every optimizer step.</summary>
    public double? ScaleWeightNorms { get; set; }

    // Full-model training (fine_tune.py, train_db.py)
    /// <summary>fine_tune.py: train the text encoder's weights too.</summary>
    public bool TrainTextEncoder { get; set; }
    /// <summary>The text encoder's learning rate in fine-tuning and DreamBooth (default: learning_rate).</summary>
    public double? LearningRateTe { get; set; }
    /// <summary>train_db.py: the text encoder trains for this many steps (negative: not at all; unset: the whole run).</summary>
    public int? StopTextEncoderTraining { get; set; }
    /// <summary>safetensors (single file), diffusers / diffusers_safetensors (folder); unset: the base model's format. ckpt and pt are refused where they would be written.</summary>
    public string? SaveModelAs { get; set; }

    // Textual Inversion (train_textual_inversion.py)
    public string? TokenString { get; set; }
    public string? InitWord { get; set; }
    public int NumVectorsPerToken { get; set; } = 1;
    /// <summary>An embedding file to start from instead of init_word.</summary>
    public string? Weights { get; set; }

    // Optimisation
    public double LearningRate { get; set; } = 1e-4;
    public double? UnetLr { get; set; }
    public double? TextEncoderLr { get; set; }
    public string OptimizerType { get; set; } = "AdamW";
    public List<string> OptimizerArgs { get; set; } = [];
    public string LrScheduler { get; set; } = "constant";
    public double LrWarmupSteps { get; set; }
    public int LrSchedulerNumCycles { get; set; } = 1;
    public double LrSchedulerPower { get; set; } = 1;
    public int? MaxTrainEpochs { get; set; }
    public int MaxTrainSteps { get; set; } = 1600;
    public int TrainBatchSize { get; set; } = 1;
    public int GradientAccumulationSteps { get; set; } = 1;
    public double MaxGradNorm { get; set; } = 1.0;
    public string MixedPrecision { get; set; } = "no";
    public bool FullFp16 { get; set; }
    public bool FullBf16 { get; set; }
    public bool GradientCheckpointing { get; set; }

    // Loss and noise
    public double? MinSnrGamma { get; set; }
    public double? NoiseOffset { get; set; }
    public int? MultiresNoiseIterations { get; set; }
    public double MultiresNoiseDiscount { get; set; } = 0.3;
    public double PriorLossWeight { get; set; } = 1.0;
    public bool NoiseOffsetRandomStrength { get; set; }
    public double? AdaptiveNoiseScale { get; set; }
    public double? IpNoiseGamma { get; set; }
    public bool IpNoiseGammaRandomStrength { get; set; }
    public int? MinTimestep { get; set; }
    public int? MaxTimestep { get; set; }
    public bool DebiasedEstimationLoss { get; set; }
    public bool ZeroTerminalSnr { get; set; }
    public string LossType { get; set; } = "l2";
    public string HuberSchedule { get; set; } = "snr";
    public double HuberC { get; set; } = 0.1;
    public double HuberScale { get; set; } = 1.0;

    public LossFunction Loss => new(LossType, HuberSchedule, HuberC, HuberScale);
    public bool ScaleVPredLossLikeNoisePred { get; set; }
    public double? VPredLikeLoss { get; set; }

    // Text
    public int? ClipSkip { get; set; }
    public int? MaxTokenLength { get; set; }
    /// <summary>A1111 attention syntax in captions, <c>(word:1.2)</c>, scales those tokens' text-encoder states.</summary>
    public bool WeightedCaptions { get; set; }

    // Data
    public string? DatasetConfig { get; set; }
    public string? TrainDataDir { get; set; }
    public string? RegDataDir { get; set; }
    public (int Width, int Height)? Resolution { get; set; }
    public bool MaskedLoss { get; set; }
    /// <summary>
    /// sd-scripts' dataset arguments given here (flip_aug, caption_prefix, keep_tokens, validation_split, …): the
    /// fallback for what the dataset config leaves out, as in kohya; <see cref="Resolution"/> and
    /// <see cref="TrainBatchSize"/> join them when the dataset is built (<see cref="TrainingDataset"/>).
    /// </summary>
    public DatasetArguments DatasetArguments { get; set; } = new();
    public bool CacheLatents { get; set; }
    public bool CacheLatentsToDisk { get; set; }
    /// <summary>
    /// sd-scripts' cache_text_encoder_outputs (SDXL): each caption is encoded once and its conditioning reused. Only
    /// when the text encoders do not train and captions do not change between epochs (checked when training starts).
    /// cache_text_encoder_outputs_to_disk turns it on too; the cache stays in memory.
    /// </summary>
    public bool CacheTextEncoderOutputs { get; set; }
    /// <summary>Images per VAE pass when caching latents (sd-scripts' vae_batch_size; 1 as there).</summary>
    public int VaeBatchSize { get; set; } = 1;

    // Validation (train_network.py); validation_split / validation_seed are dataset arguments.
    public int? ValidateEveryNSteps { get; set; }
    public int? ValidateEveryNEpochs { get; set; }
    public int? MaxValidationSteps { get; set; }

    // Run
    public int Seed { get; set; } = 42;
    public string OutputDir { get; set; } = "output";
    public string OutputName { get; set; } = "last";
    /// <summary>Whether the file set output_name (Textual Inversion then names the embedding after token_string, as sd-scripts does).</summary>
    public bool OutputNameGiven { get; private set; }
    public string SavePrecision { get; set; } = "float";
    public int? SaveEveryNEpochs { get; set; }
    /// <summary>Save about this many times over the run: replaces save_every_n_epochs with ⌊epochs / ratio⌋.</summary>
    public int? SaveNEpochRatio { get; set; }
    public int? SaveLastNEpochs { get; set; }
    public int? SaveLastNEpochsState { get; set; }
    public int? SaveEveryNSteps { get; set; }
    public int? SaveLastNSteps { get; set; }
    public int? SaveLastNStepsState { get; set; }
    public bool SaveState { get; set; }
    public bool SaveStateOnTrainEnd { get; set; }
    /// <summary>Save LoRA files without ss_* / modelspec.* metadata.</summary>
    public bool NoMetadata { get; set; }
    /// <summary>modelspec.* values from metadata_title, metadata_author, … (key without the metadata_ prefix).</summary>
    public SortedDictionary<string, string> ModelSpec { get; } = new(StringComparer.Ordinal);
    public string? Resume { get; set; }
    public string? LoggingDir { get; set; }
    public string? LogPrefix { get; set; }
    public int? SampleEveryNEpochs { get; set; }
    public int? SampleEveryNSteps { get; set; }
    public bool SampleAtFirst { get; set; }
    public string? SamplePrompts { get; set; }
    /// <summary>The sampler for sample prompts without <c>--ss</c>.</summary>
    public string SampleSampler { get; set; } = "ddim";
    public string? TrainingComment { get; set; }

    /// <summary>Notes about keys that were accepted but have no effect here (e.g. xformers).</summary>
    public List<string> Warnings { get; } = [];

    /// <param name="datasetConfig">
    /// A dataset TOML given beside the config (the CLI's --dataset-config, as the Colabs pass --dataset_config); it
    /// overrides the file's dataset_config and satisfies the need for one.
    /// </param>
    public static TrainingConfig Load(string path, string? datasetConfig = null)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: training config not found.", path);
        return Parse(File.ReadAllText(path), path, datasetConfig);
    }

    public static TrainingConfig Parse(string toml, string file = "training.toml", string? datasetConfig = null)
    {
        var config = new TrainingConfig { SourcePath = file };
        var problems = new List<DatasetProblem>();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (key, line, node) in Entries(ConfigTree.ParseToml(toml, file), file))
        {
            if (seen.TryGetValue(key, out var first))
            {
                problems.Add(DatasetProblem.Error(file, $"given twice (first on line {first}); keep one.", line, key));
                continue;
            }
            seen[key] = line;
            try
            {
                if (Ignored.TryGetValue(key, out var why)) config.Warnings.Add($"{file}:{line}: {key} is ignored: {why}");
                else if (Refused.TryGetValue(key, out var refusal))
                {
                    var given = ToValue(node);
                    if (!refusal.Accepts(given)) problems.Add(DatasetProblem.Error(file, refusal.Problem(key, given), line, key));
                }
                else if (Keys.TryGetValue(key, out var spec)) spec.Set(config, ToValue(node));
                else
                {
                    var suggestion = KeySuggestion.Closest(key, Keys.Keys.Concat(Ignored.Keys).Concat(Refused.Keys));
                    problems.Add(DatasetProblem.Error(file, $"unknown key{(suggestion is null ? "" : $"; did you mean '{suggestion}'?")} (keys are sd-scripts argument names).", line, key));
                }
            }
            catch (FormatException e)
            {
                problems.Add(DatasetProblem.Error(file, e.Message, line, key));
            }
        }
        if (datasetConfig is not null) config.DatasetConfig = datasetConfig;
        config.Validate(problems, seen, file);
        if (problems.Count > 0) throw new ConfigException(problems);
        return config;
    }

    /// <summary>Top-level keys and the keys of each [section], flattened as kohya's --config_file reads them.</summary>
    static IEnumerable<(string Key, int Line, ConfigNode Value)> Entries(ConfigTable root, string file)
    {
        foreach (var entry in root.Entries)
        {
            if (entry.Value is not ConfigTable section)
            {
                if (entry.Value is ConfigArray { Items: [ConfigTable, ..] })
                    throw new ConfigException([DatasetProblem.Error(file, $"[[{entry.Key}]] is an array of tables; a training config holds keys, at top level or in [sections] (datasets go in the dataset config).", entry.Line, entry.Key)]);
                yield return (entry.Key, entry.Line, entry.Value);
                continue;
            }
            foreach (var inner in section.Entries) yield return (inner.Key, inner.Line, inner.Value);
        }
    }

    static object? ToValue(ConfigNode node) => node switch
    {
        ConfigScalar s => s.Value,
        ConfigArray a => a.Items.Select(ToValue).ToList(),
        _ => throw new FormatException("a table is not a valid value here."),
    };

    void Validate(List<DatasetProblem> problems, Dictionary<string, int> lines, string file)
    {
        void Error(string key, string message) => problems.Add(DatasetProblem.Error(file, message, lines.TryGetValue(key, out var l) ? l : null, key));

        if (string.IsNullOrWhiteSpace(PretrainedModelNameOrPath))
            Error("pretrained_model_name_or_path", "required: the base checkpoint (.safetensors file or diffusers folder) to train on.");
        if (DatasetConfig is null && TrainDataDir is null)
            Error("dataset_config", "set dataset_config (a dataset TOML) or train_data_dir (folders named <repeats>_<class tokens>).");
        if (CacheLatents && (DatasetArguments.RandomCrop == true || DatasetArguments.ColorAug == true))
            Error(DatasetArguments.RandomCrop == true ? "random_crop" : "color_aug", "cannot be used with cache_latents (a cached latent cannot be re-cropped or re-coloured); turn one of them off.");
        if (NetworkTrainUnetOnly && NetworkTrainTextEncoderOnly)
            Error("network_train_text_encoder_only", "network_train_unet_only is also set; choose at most one.");
        if (MixedPrecision is not ("no" or "fp16" or "bf16"))
            Error("mixed_precision", $"\"{MixedPrecision}\" is not one of \"no\", \"fp16\", \"bf16\".");
        if (FullFp16 && MixedPrecision != "fp16") Error("full_fp16", "needs mixed_precision = \"fp16\".");
        if (FullBf16 && MixedPrecision != "bf16") Error("full_bf16", "needs mixed_precision = \"bf16\".");
        if (FullFp16 && FullBf16) Error("full_bf16", "full_fp16 is also set; choose one.");
        if (SavePrecision is not ("float" or "fp16" or "bf16"))
            Error("save_precision", $"\"{SavePrecision}\" is not one of \"float\", \"fp16\", \"bf16\".");
        if (MaxTokenLength is { } mtl && mtl is not (75 or 150 or 225))
            Error("max_token_length", $"{mtl} is not 75, 150 or 225.");
        if (ClipSkip is { } cs && cs is < 1 or > 12) Error("clip_skip", $"{cs} is out of range; use 1 (last layer) to 12.");
        if (TrainBatchSize < 1) Error("train_batch_size", "must be at least 1.");
        if (VaeBatchSize < 1) Error("vae_batch_size", "must be at least 1.");
        if (GradientAccumulationSteps < 1) Error("gradient_accumulation_steps", "must be at least 1.");
        if (MaxTrainEpochs is < 1) Error("max_train_epochs", "must be at least 1.");
        if (MaxTrainSteps < 1) Error("max_train_steps", "must be at least 1.");
        if (MinSnrGamma is <= 0) Error("min_snr_gamma", "must be positive (5 is the usual value).");
        if (MultiresNoiseIterations is < 0) Error("multires_noise_iterations", "must not be negative.");
        if (NetworkDim < 1) Error("network_dim", "must be at least 1.");
        if (LrWarmupSteps < 0) Error("lr_warmup_steps", "must not be negative.");
        if (SaveEveryNEpochs is < 1) Error("save_every_n_epochs", "must be at least 1.");
        if (SaveNEpochRatio is < 1) Error("save_n_epoch_ratio", "must be at least 1.");
        if (SampleEveryNEpochs is < 1) Error("sample_every_n_epochs", "must be at least 1.");
        if (SampleEveryNSteps is < 1) Error("sample_every_n_steps", "must be at least 1.");
        if (SaveLastNEpochs is < 1) Error("save_last_n_epochs", "must be at least 1.");
        if (SaveLastNEpochsState is < 1) Error("save_last_n_epochs_state", "must be at least 1.");
        if (SaveEveryNSteps is < 1) Error("save_every_n_steps", "must be at least 1.");
        if (SaveLastNSteps is < 1) Error("save_last_n_steps", "must be at least 1.");
        if (SaveLastNSteps is not null && SaveEveryNSteps is null) Error("save_last_n_steps", "needs save_every_n_steps (it keeps the step files those saves write).");
        if (SaveLastNStepsState is < 1) Error("save_last_n_steps_state", "must be at least 1.");
        if (MinTimestep is < 0 or > 1000) Error("min_timestep", $"{MinTimestep} is out of range; use 0 to 1000.");
        if (MaxTimestep is < 1 or > 1000) Error("max_timestep", $"{MaxTimestep} is out of range; use 1 to 1000.");
        if ((MinTimestep ?? 0) >= (MaxTimestep ?? 1000)) Error(MaxTimestep is null ? "min_timestep" : "max_timestep", $"min_timestep {MinTimestep ?? 0} must be below max_timestep {MaxTimestep ?? 1000} (timesteps are drawn from [min, max)).");
        if (IpNoiseGamma is < 0) Error("ip_noise_gamma", "must not be negative (0.1 is the usual value).");
        if (ScaleWeightNorms is < 0) Error("scale_weight_norms", "must not be negative (1.0 is the usual value; 0 turns it off).");
        if (DatasetArguments.CaptionDropoutRate is < 0 or > 1) Error("caption_dropout_rate", "must be between 0 and 1 (a probability).");
        if (DatasetArguments.CaptionTagDropoutRate is < 0 or > 1) Error("caption_tag_dropout_rate", "must be between 0 and 1 (a probability).");
        if (DatasetArguments.CaptionDropoutEveryNEpochs < 0) Error("caption_dropout_every_n_epochs", "must not be negative.");
        if (!Sampling.SamplerCatalog.Names.Contains(SampleSampler, StringComparer.OrdinalIgnoreCase))
            Error("sample_sampler", $"\"{SampleSampler}\" is not a known sampler; use one of {string.Join(", ", Sampling.SamplerCatalog.Names)}.");
        if (AdaptiveNoiseScale is not null && NoiseOffset is not > 0) Error("adaptive_noise_scale", "needs noise_offset (it scales the offset by each latent's mean).");
        if (ZeroTerminalSnr && !VParameterization)
            Warnings.Add($"{file}: zero_terminal_snr without v_parameterization: the last timestep's input is pure noise, so predicting ε there is trivial and sampling cannot start from it; the paper pairs it with v-prediction.");
        if (!LossFunction.Types.Contains(LossType)) Error("loss_type", $"\"{LossType}\" is not one of {string.Join(", ", LossFunction.Types)}.");
        if (!LossFunction.HuberSchedules.Contains(HuberSchedule)) Error("huber_schedule", $"\"{HuberSchedule}\" is not one of {string.Join(", ", LossFunction.HuberSchedules)}.");
        if (HuberC is <= 0 or > 1) Error("huber_c", $"{HuberC} is out of range; use a value in (0, 1] (0.1 is the default).");
        if (HuberScale <= 0) Error("huber_scale", "must be positive (1.0 is the default).");
        if (MinSnrGamma is not null && DebiasedEstimationLoss) Warnings.Add($"{file}: min_snr_gamma and debiased_estimation_loss are both set; both weights apply, as in sd-scripts.");
        if (!LearningRateSchedule.Names.Contains(LrScheduler))
            Error("lr_scheduler", $"\"{LrScheduler}\" is not supported; use one of {string.Join(", ", LearningRateSchedule.Names)}.");
        if (!OptimizerFactory.Types.Contains(OptimizerType, StringComparer.OrdinalIgnoreCase) && !OptimizerType.Equals("DAdaptation", StringComparison.OrdinalIgnoreCase))
            Error("optimizer_type", $"\"{OptimizerType}\" is not supported; use one of {string.Join(", ", OptimizerFactory.Types)}.");
        try
        {
            if (NetworkOptions() is { Kind: NetworkKind.LoHa, Dropout: > 0 })
                Warnings.Add($"{file}: LoHa has no plain dropout (LyCORIS ignores it too); use rank_dropout or module_dropout in network_args.");
            if (ScaleWeightNorms is > 0 && NetworkOptions().Kind == NetworkKind.LoHa)
                Error("scale_weight_norms", "applies to LoRA/LoCon up·down pairs, not to LoHa; remove scale_weight_norms or train a LoRA/LoCon.");
        }
        catch (ArgumentException e) { Error(lines.ContainsKey("network_args") ? "network_args" : "network_module", e.Message); }
        try { _ = new OptimizerArgs(OptimizerArgs); }
        catch (ArgumentException e) { Error("optimizer_args", e.Message); }
        if (VParameterization && !V2) Warnings.Add($"{file}: v_parameterization without v2: fine for SD 2.x-v checkpoints only.");
        if (SaveModelAs is not (null or "safetensors" or "ckpt" or "pt" or "diffusers" or "diffusers_safetensors"))
            Error("save_model_as", $"\"{SaveModelAs}\" is not one of \"safetensors\", \"diffusers\", \"diffusers_safetensors\" (\"ckpt\" and \"pt\" are sd-scripts' pickle formats, which this trainer does not write).");
        if (LearningRateTe is < 0) Error("learning_rate_te", "must not be negative.");
        if (NumVectorsPerToken is < 1 or > 75) Error("num_vectors_per_token", $"{NumVectorsPerToken} is out of range; use 1 to 75 (the vectors share one 75-token window).");
        if (TokenString is { } token && (token.Length == 0 || token.Any(char.IsWhiteSpace)))
            Error("token_string", $"\"{token}\" must be one word without spaces (it is replaced by the new token in captions and prompts).");
        if (DatasetArguments.ValidationSplit is < 0 or >= 1) Error("validation_split", $"{DatasetArguments.ValidationSplit} is out of range; use a fraction in [0, 1), e.g. 0.1 to hold out a tenth of the images.");
        if (ValidateEveryNSteps is < 1) Error("validate_every_n_steps", "must be at least 1.");
        if (ValidateEveryNEpochs is < 1) Error("validate_every_n_epochs", "must be at least 1.");
        if (MaxValidationSteps is < 1) Error("max_validation_steps", "must be at least 1.");
    }

    /// <summary>The network these settings describe (network_module, dim, alpha, network_args, dropout, train-only flags).</summary>
    public NetworkOptions NetworkOptions()
    {
        var options = Networks.NetworkOptions.FromKohya(NetworkModule, NetworkDim, NetworkAlpha, NetworkArgs);
        return options with
        {
            Dropout = NetworkDropout > 0 ? (float)NetworkDropout : options.Dropout,
            IncludeUnet = !NetworkTrainTextEncoderOnly,
            IncludeTextEncoder = !NetworkTrainUnetOnly,
        };
    }

    /// <summary>The mixed-precision type frozen weights are kept in (fp32 when mixed_precision = "no").</summary>
    public TorchSharp.torch.ScalarType FrozenDType => MixedPrecision switch
    {
        "fp16" => TorchSharp.torch.ScalarType.Float16,
        "bf16" => TorchSharp.torch.ScalarType.BFloat16,
        _ => TorchSharp.torch.ScalarType.Float32,
    };
}
