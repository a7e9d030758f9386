using System.Globalization;
using System.Text;

namespace NotebookTrainer.Training;

public sealed partial class TrainingConfig
{
    sealed record Key(Func<TrainingConfig, object?> Get, Action<TrainingConfig, object?> Set, Func<object?, string>? Format = null);

    static Key Str(Func<TrainingConfig, string?> get, Action<TrainingConfig, string> set) => new(c => get(c), (c, v) => set(c, AsString(v)));
    static Key Int(Func<TrainingConfig, int?> get, Action<TrainingConfig, int> set) => new(c => get(c), (c, v) => set(c, AsInt(v)));
    static Key Num(Func<TrainingConfig, double?> get, Action<TrainingConfig, double> set) => new(c => get(c), (c, v) => set(c, AsDouble(v)));
    static Key Flag(Func<TrainingConfig, bool> get, Action<TrainingConfig, bool> set) => new(c => get(c) ? true : null, (c, v) => set(c, v as bool? ?? throw new FormatException($"expected true or false, got {Describe(v)}.")));
    static Key List(Func<TrainingConfig, List<string>> get, Action<TrainingConfig, List<string>> set) => new(c => get(c) is { Count: > 0 } l ? l : null, (c, v) => set(c, AsStringList(v)));

    static readonly Dictionary<string, Key> Keys = new(StringComparer.Ordinal)
    {
        ["pretrained_model_name_or_path"] = Str(c => c.PretrainedModelNameOrPath, (c, v) => c.PretrainedModelNameOrPath = v),
        ["v2"] = Flag(c => c.V2, (c, v) => c.V2 = v),
        ["v_parameterization"] = Flag(c => c.VParameterization, (c, v) => c.VParameterization = v),
        ["network_module"] = Str(c => c.NetworkModule, (c, v) => c.NetworkModule = v),
        ["network_dim"] = Int(c => c.NetworkDim, (c, v) => c.NetworkDim = v),
        ["network_alpha"] = Num(c => c.NetworkAlpha, (c, v) => c.NetworkAlpha = v),
        ["network_args"] = List(c => c.NetworkArgs, (c, v) => c.NetworkArgs = v),
        ["network_dropout"] = Num(c => c.NetworkDropout == 0 ? null : c.NetworkDropout, (c, v) => c.NetworkDropout = v),
        ["network_weights"] = Str(c => c.NetworkWeights, (c, v) => c.NetworkWeights = v),
        ["network_train_unet_only"] = Flag(c => c.NetworkTrainUnetOnly, (c, v) => c.NetworkTrainUnetOnly = v),
        ["network_train_text_encoder_only"] = Flag(c => c.NetworkTrainTextEncoderOnly, (c, v) => c.NetworkTrainTextEncoderOnly = v),
        ["learning_rate"] = Num(c => c.LearningRate, (c, v) => c.LearningRate = v),
        ["unet_lr"] = Num(c => c.UnetLr, (c, v) => c.UnetLr = v),
        ["text_encoder_lr"] = Num(c => c.TextEncoderLr, (c, v) => c.TextEncoderLr = v),
        ["optimizer_type"] = Str(c => c.OptimizerType, (c, v) => c.OptimizerType = v),
        ["optimizer_args"] = List(c => c.OptimizerArgs, (c, v) => c.OptimizerArgs = v),
        ["lr_scheduler"] = Str(c => c.LrScheduler, (c, v) => c.LrScheduler = v),
        ["lr_warmup_steps"] = Num(c => c.LrWarmupSteps, (c, v) => c.LrWarmupSteps = v),
        ["lr_scheduler_num_cycles"] = Int(c => c.LrSchedulerNumCycles, (c, v) => c.LrSchedulerNumCycles = v),
        ["lr_scheduler_power"] = Num(c => c.LrSchedulerPower, (c, v) => c.LrSchedulerPower = v),
        ["max_train_epochs"] = Int(c => c.MaxTrainEpochs, (c, v) => c.MaxTrainEpochs = v),
        ["max_train_steps"] = Int(c => c.MaxTrainSteps, (c, v) => c.MaxTrainSteps = v),
        ["train_batch_size"] = Int(c => c.TrainBatchSize, (c, v) => c.TrainBatchSize = v),
        ["gradient_accumulation_steps"] = Int(c => c.GradientAccumulationSteps, (c, v) => c.GradientAccumulationSteps = v),
        ["max_grad_norm"] = Num(c => c.MaxGradNorm, (c, v) => c.MaxGradNorm = v),
        ["mixed_precision"] = Str(c => c.MixedPrecision, (c, v) => c.MixedPrecision = v),
        ["full_fp16"] = Flag(c => c.FullFp16, (c, v) => c.FullFp16 = v),
        ["full_bf16"] = Flag(c => c.FullBf16, (c, v) => c.FullBf16 = v),
        ["gradient_checkpointing"] = Flag(c => c.GradientCheckpointing, (c, v) => c.GradientCheckpointing = v),
        ["min_snr_gamma"] = Num(c => c.MinSnrGamma, (c, v) => c.MinSnrGamma = v),
        ["noise_offset"] = Num(c => c.NoiseOffset, (c, v) => c.NoiseOffset = v),
        ["multires_noise_iterations"] = Int(c => c.MultiresNoiseIterations, (c, v) => c.MultiresNoiseIterations = v),
        ["multires_noise_discount"] = Num(c => c.MultiresNoiseDiscount, (c, v) => c.MultiresNoiseDiscount = v),
        ["prior_loss_weight"] = Num(c => c.PriorLossWeight, (c, v) => c.PriorLossWeight = v),
        ["clip_skip"] = Int(c => c.ClipSkip, (c, v) => c.ClipSkip = v),
        ["max_token_length"] = Int(c => c.MaxTokenLength, (c, v) => c.MaxTokenLength = v),
        ["dataset_config"] = Str(c => c.DatasetConfig, (c, v) => c.DatasetConfig = v),
        ["train_data_dir"] = Str(c => c.TrainDataDir, (c, v) => c.TrainDataDir = v),
        ["reg_data_dir"] = Str(c => c.RegDataDir, (c, v) => c.RegDataDir = v),
        ["resolution"] = new(c => c.Resolution is { } r ? $"{r.Width},{r.Height}" : null, (c, v) => c.Resolution = AsResolution(v)),
        ["enable_bucket"] = Flag(c => c.EnableBucket, (c, v) => c.EnableBucket = v),
        ["min_bucket_reso"] = Int(c => c.MinBucketReso, (c, v) => c.MinBucketReso = v),
        ["max_bucket_reso"] = Int(c => c.MaxBucketReso, (c, v) => c.MaxBucketReso = v),
        ["bucket_reso_steps"] = Int(c => c.BucketResoSteps, (c, v) => c.BucketResoSteps = v),
        ["bucket_no_upscale"] = Flag(c => c.BucketNoUpscale, (c, v) => c.BucketNoUpscale = v),
        ["caption_extension"] = Str(c => c.CaptionExtension, (c, v) => c.CaptionExtension = v),
        ["shuffle_caption"] = Flag(c => c.ShuffleCaption, (c, v) => c.ShuffleCaption = v),
        ["keep_tokens"] = Int(c => c.KeepTokens, (c, v) => c.KeepTokens = v),
        ["flip_aug"] = Flag(c => c.FlipAug, (c, v) => c.FlipAug = v),
        ["color_aug"] = Flag(c => c.ColorAug, (c, v) => c.ColorAug = v),
        ["random_crop"] = Flag(c => c.RandomCrop, (c, v) => c.RandomCrop = v),
        ["caption_dropout_rate"] = Num(c => c.CaptionDropoutRate == 0 ? null : c.CaptionDropoutRate, (c, v) => c.CaptionDropoutRate = v),
        ["cache_latents"] = Flag(c => c.CacheLatents, (c, v) => c.CacheLatents = v),
        ["cache_latents_to_disk"] = Flag(c => c.CacheLatentsToDisk, (c, v) => c.CacheLatentsToDisk = v),
        ["seed"] = Int(c => c.Seed, (c, v) => c.Seed = v),
        ["output_dir"] = Str(c => c.OutputDir, (c, v) => c.OutputDir = v),
        ["output_name"] = Str(c => c.OutputName, (c, v) => c.OutputName = v),
        ["save_precision"] = Str(c => c.SavePrecision, (c, v) => c.SavePrecision = v),
        ["save_every_n_epochs"] = Int(c => c.SaveEveryNEpochs, (c, v) => c.SaveEveryNEpochs = v),
        ["save_last_n_epochs"] = Int(c => c.SaveLastNEpochs, (c, v) => c.SaveLastNEpochs = v),
        ["save_state"] = Flag(c => c.SaveState, (c, v) => c.SaveState = v),
        ["resume"] = Str(c => c.Resume, (c, v) => c.Resume = v),
        ["logging_dir"] = Str(c => c.LoggingDir, (c, v) => c.LoggingDir = v),
        ["log_prefix"] = Str(c => c.LogPrefix, (c, v) => c.LogPrefix = v),
        ["sample_every_n_epochs"] = Int(c => c.SampleEveryNEpochs, (c, v) => c.SampleEveryNEpochs = v),
        ["sample_prompts"] = Str(c => c.SamplePrompts, (c, v) => c.SamplePrompts = v),
        ["training_comment"] = Str(c => c.TrainingComment, (c, v) => c.TrainingComment = v),
    };

    /// <summary>sd-scripts arguments that only tune PyTorch/CUDA internals or logging services; accepted with a note.</summary>
    static readonly Dictionary<string, string> Ignored = new(StringComparer.Ordinal)
    {
        ["xformers"] = "attention runs through libtorch's scaled_dot_product_attention.",
        ["sdpa"] = "attention always uses scaled_dot_product_attention.",
        ["mem_eff_attn"] = "attention always uses scaled_dot_product_attention.",
        ["lowram"] = "weights are loaded straight to the training device.",
        ["max_data_loader_n_workers"] = "data loading runs in-process.",
        ["persistent_data_loader_workers"] = "data loading runs in-process.",
        ["save_model_as"] = "LoRA files are always .safetensors.",
        ["log_with"] = "logs are always written as CSV and TensorBoard event files.",
        ["no_half_vae"] = "the VAE runs in fp32 for latent caching.",
    };

    static string Describe(object? v) => v switch
    {
        null => "nothing",
        string s => $"the string \"{s}\"",
        List<object?> => "an array",
        bool b => b ? "true" : "false",
        _ => Convert.ToString(v, CultureInfo.InvariantCulture)!,
    };

    static string AsString(object? v) => v as string ?? throw new FormatException($"expected a string in quotes, got {Describe(v)}.");

    static int AsInt(object? v) => v switch
    {
        long l when l is >= int.MinValue and <= int.MaxValue => (int)l,
        _ => throw new FormatException($"expected an integer, got {Describe(v)}."),
    };

    static double AsDouble(object? v) => v switch
    {
        long l => l,
        double d => d,
        // Colab configs often quote numbers ("1e-4"); accept them.
        string s when double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
        _ => throw new FormatException($"expected a number, got {Describe(v)}."),
    };

    static List<string> AsStringList(object? v) => v switch
    {
        List<object?> items => items.Select(i => i as string ?? throw new FormatException($"expected an array of \"key=value\" strings, found {Describe(i)} in it.")).ToList(),
        string s => s.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToList(),
        _ => throw new FormatException($"expected an array of \"key=value\" strings, got {Describe(v)}."),
    };

    static (int, int) AsResolution(object? v)
    {
        switch (v)
        {
            case long l: return ((int)l, (int)l);
            case string s:
                var parts = s.Split(',', StringSplitOptions.TrimEntries);
                if (parts.Length is 1 or 2 && parts.All(p => int.TryParse(p, out _)))
                    return (int.Parse(parts[0]), int.Parse(parts[^1]));
                break;
            case List<object?> { Count: 2 } list when list.All(x => x is long):
                return ((int)(long)list[0]!, (int)(long)list[1]!);
        }
        throw new FormatException($"expected 512, \"512,768\" or [512, 768], got {Describe(v)}.");
    }

    /// <summary>This config as TOML with sd-scripts keys (only keys that differ from empty), for the run folder.</summary>
    public string ToToml()
    {
        var sb = new StringBuilder();
        foreach (var (name, key) in Keys)
        {
            var value = key.Get(this);
            if (value is null) continue;
            sb.Append(name).Append(" = ").Append(TomlValue(value)).Append('\n');
        }
        return sb.ToString();
    }

    static string TomlValue(object value) => value switch
    {
        string s => System.Text.Json.JsonSerializer.Serialize(s),
        bool b => b ? "true" : "false",
        int i => i.ToString(CultureInfo.InvariantCulture),
        double d => double.IsPositiveInfinity(d) ? "inf" : d.ToString("R", CultureInfo.InvariantCulture) is var r && (r.Contains('.') || r.Contains('E')) ? r : r + ".0",
        List<string> l => "[" + string.Join(", ", l.Select(x => TomlValue(x))) + "]",
        _ => throw new InvalidOperationException($"no TOML form for {value.GetType().Name}"),
    };
}
