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

    static string? NonEmpty(string s) => s.Length == 0 ? null : s;

    /// <summary>sd-scripts' metadata_title, metadata_author, …: each becomes the LoRA file's modelspec.&lt;name&gt;.</summary>
    static readonly string[] ModelSpecFields =
        ["title", "author", "description", "license", "tags", "usage_hint", "thumbnail", "merged_from", "trigger_phrase", "preprocessor", "is_negative_embedding"];

    static readonly Dictionary<string, Key> Keys = WithModelSpecKeys(new(StringComparer.Ordinal)
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
        ["vae"] = Str(c => c.Vae, (c, v) => c.Vae = NonEmpty(v)),
        ["scale_weight_norms"] = Num(c => c.ScaleWeightNorms, (c, v) => c.ScaleWeightNorms = v == 0 ? null : v),
        ["train_text_encoder"] = Flag(c => c.TrainTextEncoder, (c, v) => c.TrainTextEncoder = v),
        ["learning_rate_te"] = Num(c => c.LearningRateTe, (c, v) => c.LearningRateTe = v),
        ["stop_text_encoder_training"] = Int(c => c.StopTextEncoderTraining, (c, v) => c.StopTextEncoderTraining = v),
        ["save_model_as"] = Str(c => c.SaveModelAs, (c, v) => c.SaveModelAs = NonEmpty(v)),
        ["token_string"] = Str(c => c.TokenString, (c, v) => c.TokenString = NonEmpty(v)),
        ["init_word"] = Str(c => c.InitWord, (c, v) => c.InitWord = NonEmpty(v)),
        ["num_vectors_per_token"] = Int(c => c.NumVectorsPerToken == 1 ? null : c.NumVectorsPerToken, (c, v) => c.NumVectorsPerToken = v),
        ["weights"] = Str(c => c.Weights, (c, v) => c.Weights = NonEmpty(v)),
        ["validation_split"] = Num(c => c.DatasetArguments.ValidationSplit, (c, v) => c.DatasetArguments = c.DatasetArguments with { ValidationSplit = v }),
        ["validation_seed"] = Int(c => c.DatasetArguments.ValidationSeed, (c, v) => c.DatasetArguments = c.DatasetArguments with { ValidationSeed = v }),
        ["validate_every_n_steps"] = Int(c => c.ValidateEveryNSteps, (c, v) => c.ValidateEveryNSteps = v),
        ["validate_every_n_epochs"] = Int(c => c.ValidateEveryNEpochs, (c, v) => c.ValidateEveryNEpochs = v),
        ["max_validation_steps"] = Int(c => c.MaxValidationSteps, (c, v) => c.MaxValidationSteps = v),
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
        ["noise_offset_random_strength"] = Flag(c => c.NoiseOffsetRandomStrength, (c, v) => c.NoiseOffsetRandomStrength = v),
        ["adaptive_noise_scale"] = Num(c => c.AdaptiveNoiseScale, (c, v) => c.AdaptiveNoiseScale = v == 0 ? null : v),
        ["ip_noise_gamma"] = Num(c => c.IpNoiseGamma, (c, v) => c.IpNoiseGamma = v == 0 ? null : v),
        ["ip_noise_gamma_random_strength"] = Flag(c => c.IpNoiseGammaRandomStrength, (c, v) => c.IpNoiseGammaRandomStrength = v),
        ["min_timestep"] = Int(c => c.MinTimestep, (c, v) => c.MinTimestep = v),
        ["max_timestep"] = Int(c => c.MaxTimestep, (c, v) => c.MaxTimestep = v),
        ["scale_v_pred_loss_like_noise_pred"] = Flag(c => c.ScaleVPredLossLikeNoisePred, (c, v) => c.ScaleVPredLossLikeNoisePred = v),
        ["v_pred_like_loss"] = Num(c => c.VPredLikeLoss, (c, v) => c.VPredLikeLoss = v == 0 ? null : v),
        ["debiased_estimation_loss"] = Flag(c => c.DebiasedEstimationLoss, (c, v) => c.DebiasedEstimationLoss = v),
        ["zero_terminal_snr"] = Flag(c => c.ZeroTerminalSnr, (c, v) => c.ZeroTerminalSnr = v),
        ["loss_type"] = Str(c => c.LossType == "l2" ? null : c.LossType, (c, v) => c.LossType = v),
        ["huber_schedule"] = Str(c => c.HuberSchedule == "snr" ? null : c.HuberSchedule, (c, v) => c.HuberSchedule = v),
        ["huber_c"] = Num(c => c.HuberC == 0.1 ? null : c.HuberC, (c, v) => c.HuberC = v),
        ["huber_scale"] = Num(c => c.HuberScale == 1.0 ? null : c.HuberScale, (c, v) => c.HuberScale = v),
        ["clip_skip"] = Int(c => c.ClipSkip, (c, v) => c.ClipSkip = v),
        ["max_token_length"] = Int(c => c.MaxTokenLength, (c, v) => c.MaxTokenLength = v),
        ["dataset_config"] = Str(c => c.DatasetConfig, (c, v) => c.DatasetConfig = v),
        ["train_data_dir"] = Str(c => c.TrainDataDir, (c, v) => c.TrainDataDir = v),
        ["reg_data_dir"] = Str(c => c.RegDataDir, (c, v) => c.RegDataDir = v),
        ["resolution"] = new(c => c.Resolution is { } r ? $"{r.Width},{r.Height}" : null, (c, v) => c.Resolution = AsResolution(v)),
        ["enable_bucket"] = Flag(c => c.DatasetArguments.EnableBucket == true, (c, v) => c.DatasetArguments = c.DatasetArguments with { EnableBucket = v ? true : null }),
        ["min_bucket_reso"] = Int(c => c.DatasetArguments.MinBucketReso, (c, v) => c.DatasetArguments = c.DatasetArguments with { MinBucketReso = v }),
        ["max_bucket_reso"] = Int(c => c.DatasetArguments.MaxBucketReso, (c, v) => c.DatasetArguments = c.DatasetArguments with { MaxBucketReso = v }),
        ["bucket_reso_steps"] = Int(c => c.DatasetArguments.BucketResoSteps, (c, v) => c.DatasetArguments = c.DatasetArguments with { BucketResoSteps = v }),
        ["bucket_no_upscale"] = Flag(c => c.DatasetArguments.BucketNoUpscale == true, (c, v) => c.DatasetArguments = c.DatasetArguments with { BucketNoUpscale = v ? true : null }),
        ["weighted_captions"] = Flag(c => c.WeightedCaptions, (c, v) => c.WeightedCaptions = v),
        ["caption_extension"] = Str(c => c.DatasetArguments.CaptionExtension, (c, v) => c.DatasetArguments = c.DatasetArguments with { CaptionExtension = NonEmpty(v) }),
        // sd-scripts' old misspelling, still written by some notebooks.
        ["caption_extention"] = Str(_ => null, (c, v) => c.DatasetArguments = c.DatasetArguments with { CaptionExtension = NonEmpty(v) }),
        ["shuffle_caption"] = Flag(c => c.DatasetArguments.ShuffleCaption == true, (c, v) => c.DatasetArguments = c.DatasetArguments with { ShuffleCaption = v ? true : null }),
        ["keep_tokens"] = Int(c => c.DatasetArguments.KeepTokens, (c, v) => c.DatasetArguments = c.DatasetArguments with { KeepTokens = v }),
        ["flip_aug"] = Flag(c => c.DatasetArguments.FlipAug == true, (c, v) => c.DatasetArguments = c.DatasetArguments with { FlipAug = v ? true : null }),
        ["alpha_mask"] = Flag(c => c.DatasetArguments.AlphaMask == true, (c, v) => c.DatasetArguments = c.DatasetArguments with { AlphaMask = v ? true : null }),
        ["masked_loss"] = Flag(c => c.MaskedLoss, (c, v) => c.MaskedLoss = v),
        ["color_aug"] = Flag(c => c.DatasetArguments.ColorAug == true, (c, v) => c.DatasetArguments = c.DatasetArguments with { ColorAug = v ? true : null }),
        ["random_crop"] = Flag(c => c.DatasetArguments.RandomCrop == true, (c, v) => c.DatasetArguments = c.DatasetArguments with { RandomCrop = v ? true : null }),
        ["caption_dropout_rate"] = Num(c => c.DatasetArguments.CaptionDropoutRate, (c, v) => c.DatasetArguments = c.DatasetArguments with { CaptionDropoutRate = v }),
        ["caption_dropout_every_n_epochs"] = Int(c => c.DatasetArguments.CaptionDropoutEveryNEpochs, (c, v) => c.DatasetArguments = c.DatasetArguments with { CaptionDropoutEveryNEpochs = v }),
        ["caption_tag_dropout_rate"] = Num(c => c.DatasetArguments.CaptionTagDropoutRate, (c, v) => c.DatasetArguments = c.DatasetArguments with { CaptionTagDropoutRate = v }),
        ["keep_tokens_separator"] = Str(c => c.DatasetArguments.KeepTokensSeparator, (c, v) => c.DatasetArguments = c.DatasetArguments with { KeepTokensSeparator = NonEmpty(v) }),
        ["secondary_separator"] = Str(c => c.DatasetArguments.SecondarySeparator, (c, v) => c.DatasetArguments = c.DatasetArguments with { SecondarySeparator = NonEmpty(v) }),
        ["caption_separator"] = Str(c => c.DatasetArguments.CaptionSeparator, (c, v) => c.DatasetArguments = c.DatasetArguments with { CaptionSeparator = NonEmpty(v) }),
        ["caption_prefix"] = Str(c => c.DatasetArguments.CaptionPrefix, (c, v) => c.DatasetArguments = c.DatasetArguments with { CaptionPrefix = NonEmpty(v) }),
        ["caption_suffix"] = Str(c => c.DatasetArguments.CaptionSuffix, (c, v) => c.DatasetArguments = c.DatasetArguments with { CaptionSuffix = NonEmpty(v) }),
        ["enable_wildcard"] = Flag(c => c.DatasetArguments.EnableWildcard == true, (c, v) => c.DatasetArguments = c.DatasetArguments with { EnableWildcard = v ? true : null }),
        ["token_warmup_min"] = Int(c => c.DatasetArguments.TokenWarmupMin, (c, v) => c.DatasetArguments = c.DatasetArguments with { TokenWarmupMin = v }),
        ["token_warmup_step"] = Num(c => c.DatasetArguments.TokenWarmupStep, (c, v) => c.DatasetArguments = c.DatasetArguments with { TokenWarmupStep = v }),
        ["cache_latents"] = Flag(c => c.CacheLatents, (c, v) => c.CacheLatents = v),
        ["cache_latents_to_disk"] = Flag(c => c.CacheLatentsToDisk, (c, v) => c.CacheLatentsToDisk = v),
        ["cache_text_encoder_outputs"] = Flag(c => c.CacheTextEncoderOutputs, (c, v) => c.CacheTextEncoderOutputs |= v),
        ["cache_text_encoder_outputs_to_disk"] = Flag(_ => false, (c, v) => c.CacheTextEncoderOutputs |= v),
        ["vae_batch_size"] = Int(c => c.VaeBatchSize == 1 ? null : c.VaeBatchSize, (c, v) => c.VaeBatchSize = v),
        ["seed"] = Int(c => c.Seed, (c, v) => c.Seed = v),
        ["output_dir"] = Str(c => c.OutputDir, (c, v) => c.OutputDir = v),
        ["output_name"] = Str(c => c.OutputName, (c, v) => (c.OutputName, c.OutputNameGiven) = (v, true)),
        ["save_precision"] = Str(c => c.SavePrecision, (c, v) => c.SavePrecision = v),
        ["save_every_n_epochs"] = Int(c => c.SaveEveryNEpochs, (c, v) => c.SaveEveryNEpochs = v),
        ["save_n_epoch_ratio"] = Int(c => c.SaveNEpochRatio, (c, v) => c.SaveNEpochRatio = v == 0 ? null : v),
        ["save_last_n_epochs"] = Int(c => c.SaveLastNEpochs, (c, v) => c.SaveLastNEpochs = v),
        ["save_last_n_epochs_state"] = Int(c => c.SaveLastNEpochsState, (c, v) => c.SaveLastNEpochsState = v),
        ["save_every_n_steps"] = Int(c => c.SaveEveryNSteps, (c, v) => c.SaveEveryNSteps = v == 0 ? null : v),
        ["save_last_n_steps"] = Int(c => c.SaveLastNSteps, (c, v) => c.SaveLastNSteps = v == 0 ? null : v),
        ["save_last_n_steps_state"] = Int(c => c.SaveLastNStepsState, (c, v) => c.SaveLastNStepsState = v == 0 ? null : v),
        ["save_state"] = Flag(c => c.SaveState, (c, v) => c.SaveState = v),
        ["save_state_on_train_end"] = Flag(c => c.SaveStateOnTrainEnd, (c, v) => c.SaveStateOnTrainEnd = v),
        ["no_metadata"] = Flag(c => c.NoMetadata, (c, v) => c.NoMetadata = v),
        ["resume"] = Str(c => c.Resume, (c, v) => c.Resume = v),
        ["logging_dir"] = Str(c => c.LoggingDir, (c, v) => c.LoggingDir = v),
        ["log_prefix"] = Str(c => c.LogPrefix, (c, v) => c.LogPrefix = v),
        ["sample_every_n_epochs"] = Int(c => c.SampleEveryNEpochs, (c, v) => c.SampleEveryNEpochs = v == 0 ? null : v),
        ["sample_every_n_steps"] = Int(c => c.SampleEveryNSteps, (c, v) => c.SampleEveryNSteps = v == 0 ? null : v),
        ["sample_at_first"] = Flag(c => c.SampleAtFirst, (c, v) => c.SampleAtFirst = v),
        ["sample_prompts"] = Str(c => c.SamplePrompts, (c, v) => c.SamplePrompts = NonEmpty(v)),
        ["sample_sampler"] = Str(c => c.SampleSampler, (c, v) => c.SampleSampler = v),
        ["training_comment"] = Str(c => c.TrainingComment, (c, v) => c.TrainingComment = v),
    });

    static Dictionary<string, Key> WithModelSpecKeys(Dictionary<string, Key> keys)
    {
        foreach (var field in ModelSpecFields)
            keys["metadata_" + field] = Str(c => c.ModelSpec.GetValueOrDefault(field), (c, v) => { if (v.Length > 0) c.ModelSpec[field] = v; });
        return keys;
    }

    /// <summary>sd-scripts arguments that only tune PyTorch/CUDA internals, services or logging; accepted with a note saying why.</summary>
    static readonly Dictionary<string, string> Ignored = new(StringComparer.Ordinal)
    {
        ["xformers"] = "attention runs through libtorch's scaled_dot_product_attention.",
        ["sdpa"] = "attention always uses scaled_dot_product_attention.",
        ["mem_eff_attn"] = "attention always uses scaled_dot_product_attention.",
        ["lowram"] = "weights are loaded straight to the training device.",
        ["highvram"] = "latents and weights already stay on the training device.",
        ["max_data_loader_n_workers"] = "data loading runs in-process.",
        ["persistent_data_loader_workers"] = "data loading runs in-process.",
        ["use_safetensors"] = "model files are always .safetensors.",
        ["no_token_padding"] = "current sd-scripts no longer applies it either (captions are always padded to 77 tokens).",
        ["log_with"] = "logs are always written as CSV and TensorBoard event files.",
        ["log_tracker_name"] = "logs are written as CSV and TensorBoard files, there is no tracker service.",
        ["log_tracker_config"] = "logs are written as CSV and TensorBoard files, there is no tracker service.",
        ["log_config"] = "the run's config is always written to output_dir/run/training.toml.",
        ["wandb_run_name"] = "there is no Weights & Biases logging.",
        ["wandb_api_key"] = "there is no Weights & Biases logging.",
        ["console_log_level"] = "messages go to the CLI or notebook output.",
        ["console_log_file"] = "messages go to the CLI or notebook output.",
        ["console_log_simple"] = "messages go to the CLI or notebook output.",
        ["huggingface_repo_id"] = "nothing is uploaded to the Hugging Face Hub; upload the files in output_dir yourself.",
        ["huggingface_repo_type"] = "nothing is uploaded to the Hugging Face Hub.",
        ["huggingface_path_in_repo"] = "nothing is uploaded to the Hugging Face Hub.",
        ["huggingface_token"] = "nothing is uploaded to the Hugging Face Hub (the token is not read).",
        ["huggingface_repo_visibility"] = "nothing is uploaded to the Hugging Face Hub.",
        ["save_state_to_huggingface"] = "nothing is uploaded to the Hugging Face Hub.",
        ["async_upload"] = "nothing is uploaded to the Hugging Face Hub.",
        ["no_half_vae"] = "the VAE runs in fp32 for latent caching.",
        ["tokenizer_cache_dir"] = "the tokenizer is read from the base model's folder.",
        ["torch_compile"] = "libtorch runs the model eagerly; there is no torch.compile.",
        ["dynamo_backend"] = "libtorch runs the model eagerly; there is no torch.compile.",
        ["ddp_timeout"] = "training runs in one process on one device.",
        ["ddp_gradient_as_bucket_view"] = "training runs in one process on one device.",
        ["ddp_static_graph"] = "training runs in one process on one device.",
        ["deepspeed"] = "training runs in one process on one device; DeepSpeed only spreads memory, the result is the same.",
        ["zero_stage"] = "there is no DeepSpeed here.",
        ["offload_optimizer_device"] = "there is no DeepSpeed here.",
        ["offload_optimizer_nvme_path"] = "there is no DeepSpeed here.",
        ["offload_param_device"] = "there is no DeepSpeed here.",
        ["offload_param_nvme_path"] = "there is no DeepSpeed here.",
        ["zero3_init_flag"] = "there is no DeepSpeed here.",
        ["zero3_save_16bit_model"] = "there is no DeepSpeed here.",
        ["fp16_master_weights_and_gradients"] = "there is no DeepSpeed here.",
        ["fp8_base"] = "frozen weights stay in the mixed_precision dtype (fp8 only saves GPU memory).",
        ["fp8_base_unet"] = "frozen weights stay in the mixed_precision dtype (fp8 only saves GPU memory).",
        ["blocks_to_swap"] = "this only moves SD3/Flux blocks between CPU and GPU to save memory.",
        ["cpu_offload_checkpointing"] = "this only moves checkpointed activations to the CPU to save memory.",
        ["fused_backward_pass"] = "the optimizer steps after the whole backward pass; fusing only saves memory.",
        ["disable_mmap_load_safetensors"] = "safetensors files are read through a memory map either way; the weights are the same.",
        ["skip_cache_check"] = "the latent cache is keyed by image and VAE hash and is checked cheaply.",
        ["cache_info"] = "image sizes are read quickly from the headers; nothing to cache.",
        ["text_encoder_batch_size"] = "text encoder outputs are cached one caption at a time.",
        ["weighting_scheme"] = "used only by sd-scripts' SD3/Flux trainers, not by SD 1.x/2.x LoRA training.",
        ["logit_mean"] = "used only by sd-scripts' SD3/Flux trainers, not by SD 1.x/2.x LoRA training.",
        ["logit_std"] = "used only by sd-scripts' SD3/Flux trainers, not by SD 1.x/2.x LoRA training.",
        ["mode_scale"] = "used only by sd-scripts' SD3/Flux trainers, not by SD 1.x/2.x LoRA training.",
        ["dim_from_weights"] = "with network_weights the network always takes its dims from that file.",
        ["config_file"] = "this file is the config; a config cannot name another one.",
    };

    /// <summary>
    /// An sd-scripts argument that would change what is trained and is not implemented here. The neutral value
    /// (false, 0, "", []) and <see cref="Default"/> are accepted silently; anything else is an error.
    /// </summary>
    sealed record Refusal(string Why, object? Default = null)
    {
        public bool Accepts(object? value) => value switch
        {
            false or 0L or 0.0 or "" or List<object?> { Count: 0 } => true,
            _ => Default is not null && (Equals(value, Default) || value is long l && Equals((double)l, Default)),
        };

        public string Problem(string key, object? value) =>
            $"{key} = {Literal(value)} is not supported: {Why}. Fix: remove {key} or set it to {(Default is null ? Neutral(value) : Literal(Default))}.";

        static string Neutral(object? value) => value switch
        {
            bool => "false",
            long or double => "0",
            List<object?> => "[]",
            _ => "\"\"",
        };
    }

    /// <summary>A parsed TOML value written back as TOML.</summary>
    static string Literal(object? value) => value switch
    {
        List<object?> items => "[" + string.Join(", ", items.Select(Literal)) + "]",
        long l => l.ToString(CultureInfo.InvariantCulture),
        null => "nothing",
        _ => TomlValue(value),
    };

    static readonly Dictionary<string, Refusal> Refused = new(StringComparer.Ordinal)
    {
        ["conditioning_data_dir"] = new("ControlNet conditioning images are not used by LoRA training"),
        ["face_crop_aug_range"] = new("face-crop augmentation is not implemented"),
        ["resize_interpolation"] = new("images are always resized with the built-in area/Lanczos filter"),
        ["use_object_template"] = new("the caption templates are not built in; write captions that contain token_string (e.g. \"a photo of mytoken\")"),
        ["use_style_template"] = new("the caption templates are not built in; write captions that contain token_string (e.g. \"a painting in the style of mytoken\")"),
        ["base_weights"] = new("merging other LoRAs into the base model before training is not implemented; merge them into the checkpoint first"),
        ["base_weights_multiplier"] = new("base_weights is not implemented"),
        ["lr_scheduler_type"] = new("custom scheduler classes are not available; use lr_scheduler"),
        ["lr_scheduler_args"] = new("extra scheduler arguments are not implemented; use lr_scheduler, lr_scheduler_num_cycles and lr_scheduler_power"),
        ["lr_decay_steps"] = new("the warmup_stable_decay scheduler is not implemented"),
        ["lr_scheduler_timescale"] = new("the inverse_sqrt scheduler is not implemented"),
        ["lr_scheduler_min_lr_ratio"] = new("a minimum learning-rate ratio is not implemented; schedules decay to 0"),
        ["use_8bit_adam"] = new("this old flag is replaced by optimizer_type; write optimizer_type = \"AdamW8bit\" instead"),
        ["use_lion_optimizer"] = new("this old flag is replaced by optimizer_type; write optimizer_type = \"Lion\" instead"),
        ["initial_epoch"] = new("starting the schedule at a given epoch is not implemented; continue a run with resume (a save_state folder)"),
        ["initial_step"] = new("starting the schedule at a given step is not implemented; continue a run with resume (a save_state folder)"),
        ["skip_until_initial_step"] = new("initial_step is not implemented; continue a run with resume (a save_state folder)"),
        ["debug_dataset"] = new("in sd-scripts it shows the dataset and does not train; inspect the dataset with `ntrain dataset inspect` instead"),
        ["output_config"] = new("in sd-scripts it writes the config and does not train; every run writes output_dir/run/training.toml"),
        ["in_json"] = new("fine-tuning metadata as a training argument is not supported; use a dataset_config whose subset sets metadata_file"),
        ["dataset_repeats"] = new("fine-tuning metadata as a training argument is not supported; use a dataset_config whose subset sets num_repeats"),
        ["dataset_class"] = new("custom Python dataset classes cannot run here; use dataset_config or train_data_dir"),
        ["resume_from_huggingface"] = new("states are not downloaded from the Hugging Face Hub; download the state folder and set resume to it"),
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
