using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using NotebookTrainer.Datasets;

namespace NotebookTrainer.Training;

/// <summary>
/// kohya's <c>ss_*</c> and <c>modelspec.*</c> metadata for a LoRA file (all values strings); an SDXL base gives
/// sdxl_train_network.py's <c>ss_base_model_version = "sdxl_base_v1-0"</c> and <c>stable-diffusion-xl-v1-base/lora</c>. With no_metadata, as in
/// sd-scripts, only the keys a loader needs to pick the network type remain (<see cref="MinimumKeys"/>, plus the
/// ss_network_* keys <see cref="Networks.LoraFile.Save"/> adds) and the modelspec block.
/// </summary>
public static class TrainingMetadata
{
    public static readonly string[] MinimumKeys = ["ss_v2", "ss_base_model_version", "ss_network_module", "ss_network_dim", "ss_network_alpha", "ss_network_args"];

    static string S(double? v) => v is { } d ? d.ToString("R", CultureInfo.InvariantCulture) : "None";
    static string S(int? v) => v is { } i ? i.ToString(CultureInfo.InvariantCulture) : "None";
    static string S(bool v) => v ? "True" : "False";

    public static Dictionary<string, string> Build(TrainingConfig config, DatasetPlan dataset, TrainingPlan plan, TrainingModels models,
        string optimizer, int epoch, int step, DateTimeOffset startedAt, DateTimeOffset? finishedAt, string sessionId)
    {
        var baseVersion = models.IsSdxl ? Networks.LoraFile.SdxlBaseModelVersion : config.V2 ? (config.VParameterization ? "sd_v2_v" : "sd_v2") : "sd_v1";
        var architecture = models.IsSdxl ? "stable-diffusion-xl-v1-base" : config.V2 ? (config.VParameterization ? "stable-diffusion-v2-768-v" : "stable-diffusion-v2-512") : "stable-diffusion-v1";
        var resolution = dataset.Config.Datasets.FirstOrDefault()?.Resolution ?? (512, 512);
        var meta = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["ss_session_id"] = sessionId,
            ["ss_training_started_at"] = startedAt.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture),
            ["ss_training_finished_at"] = finishedAt is { } f ? f.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture) : "None",
            ["ss_output_name"] = config.OutputName,
            ["ss_learning_rate"] = S(config.LearningRate),
            ["ss_unet_lr"] = S(config.UnetLr ?? config.LearningRate),
            ["ss_text_encoder_lr"] = S(config.TextEncoderLr ?? config.LearningRate),
            ["ss_num_train_images"] = S(dataset.NumTrainImages),
            ["ss_num_reg_images"] = S(dataset.NumRegImages),
            ["ss_num_batches_per_epoch"] = S(dataset.BatchesPerEpoch),
            ["ss_num_epochs"] = S(plan.Epochs),
            ["ss_epoch"] = S(epoch),
            ["ss_steps"] = S(step),
            ["ss_max_train_steps"] = S(plan.TotalSteps),
            ["ss_lr_warmup_steps"] = plan.WarmupSteps.ToString(CultureInfo.InvariantCulture),
            ["ss_lr_scheduler"] = config.LrScheduler,
            ["ss_optimizer"] = optimizer + (config.OptimizerArgs.Count > 0 ? "(" + string.Join(",", config.OptimizerArgs) + ")" : ""),
            ["ss_mixed_precision"] = config.MixedPrecision,
            ["ss_full_fp16"] = S(config.FullFp16),
            ["ss_v2"] = S(config.V2),
            ["ss_base_model_version"] = baseVersion,
            ["ss_clip_skip"] = S(config.ClipSkip),
            ["ss_max_token_length"] = S(config.MaxTokenLength),
            ["ss_seed"] = S(config.Seed),
            ["ss_noise_offset"] = S(config.NoiseOffset),
            ["ss_multires_noise_iterations"] = S(config.MultiresNoiseIterations),
            ["ss_multires_noise_discount"] = S(config.MultiresNoiseDiscount),
            ["ss_min_snr_gamma"] = S(config.MinSnrGamma),
            ["ss_zero_terminal_snr"] = S(config.ZeroTerminalSnr),
            ["ss_masked_loss"] = S(config.MaskedLoss),
            ["ss_loss_type"] = config.LossType,
            ["ss_huber_schedule"] = config.HuberSchedule,
            ["ss_huber_c"] = S(config.HuberC),
            ["ss_huber_scale"] = S(config.HuberScale),
            ["ss_prior_loss_weight"] = S(config.PriorLossWeight),
            ["ss_caption_dropout_rate"] = S(config.DatasetArguments.CaptionDropoutRate ?? 0),
            ["ss_gradient_accumulation_steps"] = S(config.GradientAccumulationSteps),
            ["ss_max_grad_norm"] = S(config.MaxGradNorm),
            ["ss_sd_model_name"] = models.ModelName,
            ["ss_sd_model_hash"] = models.ModelHash ?? "None",
            ["ss_cache_latents"] = S(config.CacheLatents),
            ["ss_datasets"] = Datasets(dataset).ToJsonString(),
            ["ss_tag_frequency"] = KohyaDatasetMetadata.TagFrequencyJson(dataset),
            ["ss_dataset_dirs"] = KohyaDatasetMetadata.DatasetDirsJson(dataset),
            ["ss_bucket_info"] = KohyaDatasetMetadata.BucketInfoJson(dataset),
            ["modelspec.sai_model_spec"] = "1.0.1",
            ["modelspec.architecture"] = architecture + "/lora",
            ["modelspec.implementation"] = "https://github.com/Stability-AI/generative-models",
            ["modelspec.title"] = $"{config.OutputName}" + (finishedAt is null ? $" epoch {epoch}" : ""),
            ["modelspec.resolution"] = $"{resolution.Width}x{resolution.Height}",
            ["modelspec.date"] = (finishedAt ?? DateTimeOffset.UtcNow).ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture),
            ["modelspec.prediction_type"] = config.VParameterization ? "v" : "epsilon",
        };
        if (config.TrainingComment is { } comment) meta["ss_training_comment"] = comment;
        if (models.VaeName is { } vae)
        {
            meta["ss_vae_name"] = vae;
            if (models.VaeHash is { } vaeHash) meta["ss_vae_hash"] = vaeHash;
        }
        foreach (var (field, value) in config.ModelSpec) meta["modelspec." + field] = value;
        if (config.NoMetadata)
            foreach (var key in meta.Keys.Where(k => !k.StartsWith("modelspec.", StringComparison.Ordinal) && !MinimumKeys.Contains(k)).ToList())
                meta.Remove(key);
        return meta;
    }

    static JsonArray Datasets(DatasetPlan dataset)
    {
        var array = new JsonArray();
        foreach (var (d, index) in dataset.Config.Datasets.Select((d, i) => (d, i)))
        {
            var usable = dataset.Images.Where(i => i.DatasetIndex == index && i.IsUsable).ToList();
            var subsets = new JsonArray();
            foreach (var s in d.Subsets)
                subsets.Add(new JsonObject
                {
                    ["img_count"] = dataset.Images.Count(i => i.Subset == s && i.IsUsable),
                    ["num_repeats"] = s.NumRepeats,
                    ["color_aug"] = s.ColorAug,
                    ["flip_aug"] = s.FlipAug,
                    ["alpha_mask"] = s.AlphaMask,
                    ["random_crop"] = s.RandomCrop,
                    ["shuffle_caption"] = s.ShuffleCaption,
                    ["keep_tokens"] = s.KeepTokens,
                    ["image_dir"] = s.ImageDir is null ? null : Path.GetFileName(s.ImageDir.TrimEnd('/', '\\')),
                    ["class_tokens"] = s.ClassTokens,
                    ["is_reg"] = s.IsReg,
                });
            array.Add(new JsonObject
            {
                ["is_dreambooth"] = !d.IsFineTune,
                ["batch_size_per_device"] = d.BatchSize,
                ["num_train_images"] = usable.Where(i => !i.IsReg).Sum(i => i.Repeats),
                ["num_reg_images"] = usable.Where(i => i.IsReg).Sum(i => i.Repeats),
                ["resolution"] = new JsonArray(d.Resolution.Width, d.Resolution.Height),
                ["enable_bucket"] = d.EnableBucket,
                ["min_bucket_reso"] = d.MinBucketReso,
                ["max_bucket_reso"] = d.MaxBucketReso,
                ["tag_frequency"] = JsonSerializer.SerializeToNode(KohyaDatasetMetadata.TagFrequency(dataset, index)),
                ["bucket_info"] = KohyaDatasetMetadata.BucketInfo(dataset, index),
                ["subsets"] = subsets,
            });
        }
        return array;
    }
}
