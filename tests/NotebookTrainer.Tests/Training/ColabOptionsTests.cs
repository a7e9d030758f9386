using NotebookTrainer.Configuration;
using NotebookTrainer.Datasets;
using NotebookTrainer.Diffusion;
using NotebookTrainer.ModelConfigs;
using NotebookTrainer.Networks;
using NotebookTrainer.SafeTensors;
using NotebookTrainer.Training;
using NotebookTrainer.World;
using static TorchSharp.torch;

namespace NotebookTrainer.Tests.Training;

/// <summary>The sd-scripts arguments Colab configs carry: each implemented one has its effect, the rest are ignored or refused openly.</summary>
[Collection(TorchRandom.Collection)]
public sealed class ColabOptionsTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("ntrain-colab-options-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    /// <summary>train_network.py's argparse names (sd-scripts main, library/train_util, custom_train_functions, deepspeed_utils, sai_model_spec, utils).</summary>
    static readonly string[] SdScriptsArguments =
    [
        "adaptive_noise_scale", "alpha_mask", "async_upload", "base_weights", "base_weights_multiplier", "blocks_to_swap", "bucket_no_upscale", "bucket_reso_steps", 
        "cache_info", "cache_latents", "cache_latents_to_disk", "cache_text_encoder_outputs", "cache_text_encoder_outputs_to_disk", "caption_dropout_every_n_epochs", "caption_dropout_rate", "caption_extension", 
        "caption_extention", "caption_prefix", "caption_separator", "caption_suffix", "caption_tag_dropout_rate", "clip_skip", "color_aug", "conditioning_data_dir", 
        "config_file", "console_log_file", "console_log_level", "console_log_simple", "cpu_offload_checkpointing", "dataset_class", "dataset_config", "dataset_repeats", 
        "ddp_gradient_as_bucket_view", "ddp_static_graph", "ddp_timeout", "debiased_estimation_loss", "debug_dataset", "deepspeed", "dim_from_weights", "disable_mmap_load_safetensors", 
        "dynamo_backend", "enable_bucket", "enable_wildcard", "face_crop_aug_range", "flip_aug", "fp16_master_weights_and_gradients", "fp8_base", "fp8_base_unet", 
        "full_bf16", "full_fp16", "fused_backward_pass", "gradient_accumulation_steps", "gradient_checkpointing", "highvram", "huber_c", "huber_scale", 
        "huber_schedule", "huggingface_path_in_repo", "huggingface_repo_id", "huggingface_repo_type", "huggingface_repo_visibility", "huggingface_token", "in_json", "initial_epoch", 
        "initial_step", "ip_noise_gamma", "ip_noise_gamma_random_strength", "keep_tokens", "keep_tokens_separator", "learning_rate", "log_config", "log_prefix", 
        "log_tracker_config", "log_tracker_name", "log_with", "logging_dir", "logit_mean", "logit_std", "loss_type", "lowram", 
        "lr_decay_steps", "lr_scheduler", "lr_scheduler_args", "lr_scheduler_min_lr_ratio", "lr_scheduler_num_cycles", "lr_scheduler_power", "lr_scheduler_timescale", "lr_scheduler_type", 
        "lr_warmup_steps", "masked_loss", "max_bucket_reso", "max_data_loader_n_workers", "max_grad_norm", "max_timestep", "max_token_length", "max_train_epochs", 
        "max_train_steps", "max_validation_steps", "mem_eff_attn", "metadata_author", "metadata_description", "metadata_is_negative_embedding", "metadata_license", "metadata_merged_from", 
        "metadata_preprocessor", "metadata_tags", "metadata_thumbnail", "metadata_title", "metadata_trigger_phrase", "metadata_usage_hint", "min_bucket_reso", "min_snr_gamma", 
        "min_timestep", "mixed_precision", "mode_scale", "multires_noise_discount", "multires_noise_iterations", "network_alpha", "network_args", "network_dim", 
        "network_dropout", "network_module", "network_train_text_encoder_only", "network_train_unet_only", "network_weights", "no_half_vae", "no_metadata", "noise_offset", 
        "noise_offset_random_strength", "offload_optimizer_device", "offload_optimizer_nvme_path", "offload_param_device", "offload_param_nvme_path", "optimizer_args", "optimizer_type", "output_config", 
        "output_dir", "output_name", "persistent_data_loader_workers", "pretrained_model_name_or_path", "prior_loss_weight", "random_crop", "reg_data_dir", "resize_interpolation", 
        "resolution", "resume", "resume_from_huggingface", "sample_at_first", "sample_every_n_epochs", "sample_every_n_steps", "sample_prompts", "sample_sampler", 
        "save_every_n_epochs", "save_every_n_steps", "save_last_n_epochs", "save_last_n_epochs_state", "save_last_n_steps", "save_last_n_steps_state", "save_model_as", "save_n_epoch_ratio", 
        "save_precision", "save_state", "save_state_on_train_end", "save_state_to_huggingface", "scale_v_pred_loss_like_noise_pred", "scale_weight_norms", "sdpa", "secondary_separator", 
        "seed", "shuffle_caption", "skip_cache_check", "skip_until_initial_step", "text_encoder_batch_size", "text_encoder_lr", "token_warmup_min", "token_warmup_step", 
        "tokenizer_cache_dir", "torch_compile", "train_batch_size", "train_data_dir", "training_comment", "unet_lr", "use_8bit_adam", "use_lion_optimizer", 
        "use_safetensors", "v2", "v_parameterization", "v_pred_like_loss", "vae", "vae_batch_size", "validate_every_n_epochs", "validate_every_n_steps", 
        "validation_seed", "validation_split", "wandb_api_key", "wandb_run_name", "weighted_captions", "weighting_scheme", "xformers", "zero3_init_flag", 
        "zero3_save_16bit_model", "zero_stage", "zero_terminal_snr", 
    ];

    const string Required = "pretrained_model_name_or_path = \"embedded:tiny\"\ntrain_data_dir = \"data\"\n";

    [Fact]
    public void Every_sd_scripts_training_argument_is_recognised()
    {
        foreach (var name in SdScriptsArguments)
            foreach (var value in new[] { "false", "0", "\"\"" })
            {
                try { TrainingConfig.Parse(Required + (name is "pretrained_model_name_or_path" or "train_data_dir" ? "" : $"{name} = {value}\n")); }
                catch (ConfigException e)
                {
                    Assert.DoesNotContain(e.Problems, p => p.Key == name && p.Message.Contains("unknown key"));
                }
            }
        var typo = Assert.Throws<ConfigException>(() => TrainingConfig.Parse(Required + "ip_noise_gama = 0.1\n"));
        Assert.Contains("did you mean 'ip_noise_gamma'?", typo.Problems.Single().Message);
    }

    [Fact]
    public void Ignored_arguments_warn_with_the_reason_and_refused_ones_are_errors_unless_neutral()
    {
        var ignored = TrainingConfig.Parse(Required + "max_data_loader_n_workers = 4\nhuggingface_token = \"hf_secret\"\n", "c.toml");
        Assert.Contains("c.toml:3: max_data_loader_n_workers is ignored: data loading runs in-process", string.Join("\n", ignored.Warnings));
        Assert.DoesNotContain(ignored.Warnings, w => w.Contains("hf_secret"));

        var neutral = TrainingConfig.Parse(Required + "zero_terminal_snr = false\nweighted_captions = false\ndebug_dataset = false\nloss_type = \"l2\"\nhuber_c = 0.1\nbase_weights = []\nlr_scheduler_args = []\n");
        Assert.Empty(neutral.Warnings);

        var e = Assert.Throws<ConfigException>(() => TrainingConfig.Parse(Required + "base_weights = [\"other.safetensors\"]\nuse_object_template = true\nin_json = \"meta.json\"\n", "c.toml"));
        var byKey = e.Problems.ToDictionary(p => p.Key!);
        Assert.StartsWith("c.toml:3: base_weights: error: base_weights = [\"other.safetensors\"] is not supported: merging other LoRAs into the base model before training is not implemented", byKey["base_weights"].ToString());
        Assert.Equal(4, byKey["use_object_template"].Line);
        Assert.Contains("write captions that contain token_string", byKey["use_object_template"].Message);
        Assert.Equal(5, byKey["in_json"].Line);
    }

    /// <summary>The arguments fine_tune.py, train_db.py and train_textual_inversion.py add to the shared ones.</summary>
    [Fact]
    public void Method_and_validation_arguments_parse_and_bad_values_name_their_key()
    {
        var config = TrainingConfig.Parse(Required + """
            train_text_encoder = true
            learning_rate_te = 5e-6
            stop_text_encoder_training = 100
            save_model_as = "diffusers"
            token_string = "mychar"
            init_word = "person"
            num_vectors_per_token = 4
            weights = "start.safetensors"
            validation_split = 0.1
            validation_seed = 3
            validate_every_n_steps = 50
            validate_every_n_epochs = 2
            max_validation_steps = 8
            no_token_padding = true
            """, "c.toml");
        Assert.Equal((true, 5e-6, 100, "diffusers"), (config.TrainTextEncoder, config.LearningRateTe, config.StopTextEncoderTraining, config.SaveModelAs));
        Assert.Equal(("mychar", "person", 4, "start.safetensors"), (config.TokenString, config.InitWord, config.NumVectorsPerToken, config.Weights));
        Assert.Equal((0.1, 3, 50, 2, 8), (config.DatasetArguments.ValidationSplit, config.DatasetArguments.ValidationSeed, config.ValidateEveryNSteps, config.ValidateEveryNEpochs, config.MaxValidationSteps));
        Assert.Contains(config.Warnings, w => w.Contains("no_token_padding is ignored"));
        Assert.False(config.OutputNameGiven);
        var again = TrainingConfig.Parse(config.ToToml());
        Assert.Equal((0.1, 4, "diffusers"), (again.DatasetArguments.ValidationSplit, again.NumVectorsPerToken, again.SaveModelAs));

        var e = Assert.Throws<ConfigException>(() => TrainingConfig.Parse(Required + "save_model_as = \"onnx\"\nvalidation_split = 1.5\nnum_vectors_per_token = 0\ntoken_string = \"two words\"\nmax_validation_steps = 0\n"));
        Assert.Equal(["max_validation_steps", "num_vectors_per_token", "save_model_as", "token_string", "validation_split"], e.Problems.Select(p => p.Key!).Order());
    }

    [Fact]
    public void Huber_and_l1_losses_parse_and_bad_values_name_their_key()
    {
        var huber = TrainingConfig.Parse(Required + "loss_type = \"smooth_l1\"\nhuber_schedule = \"exponential\"\nhuber_c = 0.2\nhuber_scale = 1.5\n");
        Assert.Equal(new LossFunction("smooth_l1", "exponential", 0.2, 1.5), huber.Loss);
        Assert.Contains("loss_type = \"smooth_l1\"", huber.ToToml());
        var e = Assert.Throws<ConfigException>(() => TrainingConfig.Parse(Required + "loss_type = \"l3\"\nhuber_schedule = \"linear\"\nhuber_c = 0\n", "c.toml"));
        Assert.Equal(["huber_c", "huber_schedule", "loss_type"], e.Problems.Select(p => p.Key!).Order());
        Assert.Contains("\"l3\" is not one of l2, l1, huber, smooth_l1", e.Problems.Single(p => p.Key == "loss_type").Message);
    }

    [Fact]
    public void A_dataset_config_given_beside_the_file_satisfies_it()
    {
        var config = TrainingConfig.Parse("pretrained_model_name_or_path = \"embedded:tiny\"\n", "c.toml", datasetConfig: "dataset.toml");
        Assert.Equal("dataset.toml", config.DatasetConfig);
    }

    [Fact]
    public void Caption_arguments_reach_every_subset_as_fallbacks()
    {
        var data = Path.Combine(dir, "data");
        SampleDataset.Generate(data, seed: 5, count: 2);
        var config = TrainingConfig.Parse($"""
            pretrained_model_name_or_path = "embedded:tiny"
            train_data_dir = {System.Text.Json.JsonSerializer.Serialize(data)}
            resolution = 64
            caption_dropout_every_n_epochs = 3
            caption_tag_dropout_rate = 0.25
            keep_tokens_separator = "|||"
            secondary_separator = ";;;"
            caption_prefix = "masterpiece"
            caption_suffix = "high quality"
            enable_wildcard = true
            token_warmup_step = 0.5
            """);
        var subset = TrainingDataset.Build(config).Config.Datasets.Single().Subsets.Single();
        Assert.Equal(3, subset.CaptionDropoutEveryNEpochs);
        Assert.Equal(0.25, subset.CaptionTagDropoutRate);
        Assert.Equal("|||", subset.KeepTokensSeparator);
        Assert.Equal(";;;", subset.SecondarySeparator);
        Assert.Equal("masterpiece", subset.CaptionPrefix);
        Assert.Equal("high quality", subset.CaptionSuffix);
        Assert.True(subset.EnableWildcard);
        Assert.Equal(0.5, subset.TokenWarmupStep);
    }

    [Fact]
    public void No_metadata_keeps_only_what_loaders_need_and_metadata_fields_become_modelspec()
    {
        var data = TinyTrainingSetup.Dataset(Path.Combine(dir, "data"));
        Dictionary<string, string> Train(string name, string extra)
        {
            using var models = TinyTrainingSetup.Models();
            using var trainer = new Trainer(TinyTrainingSetup.Config(Path.Combine(dir, name), "max_train_steps = 1\ntraining_comment = \"private\"\nmetadata_title = \"My LoRA\"\nmetadata_author = \"me\"\n" + extra), data, models, CPU);
            using var file = SafeTensorsFile.Open(trainer.Train().OutputPath!);
            return file.Metadata.ToDictionary();
        }

        var full = Train("full", "");
        var bare = Train("bare", "no_metadata = true");

        Assert.Contains("ss_tag_frequency", full.Keys);
        Assert.Equal("private", full["ss_training_comment"]);
        Assert.Equal("My LoRA", full["modelspec.title"]);
        Assert.Equal("me", full["modelspec.author"]);
        Assert.Equal(["ss_base_model_version", "ss_network_alpha", "ss_network_dim", "ss_network_module", "ss_v2"],
            bare.Keys.Where(k => k.StartsWith("ss_")).Order());
        Assert.Equal("My LoRA", bare["modelspec.title"]);
        Assert.Contains("sshs_model_hash", bare.Keys);
    }

    [Fact]
    public void Timesteps_stay_in_min_max_timestep_and_the_range_is_checked()
    {
        using var generator = new Generator(3);
        using var t = NoiseSampler.Timesteps(20_000, 200, 400, generator, CPU);
        Assert.Equal(200, t.min().item<long>());
        Assert.Equal(399, t.max().item<long>());

        var e = Assert.Throws<ConfigException>(() => TrainingConfig.Parse(Required + "min_timestep = 500\nmax_timestep = 500\n"));
        Assert.Contains("must be below max_timestep", e.Problems.Single().Message);
    }

    [Fact]
    public void Training_draws_its_timesteps_from_the_configured_range()
    {
        // Only t = 999 is allowed: ε-prediction at the noisiest step barely depends on the image, so the
        // first-step loss differs clearly from a run over all timesteps with the same seed.
        var data = TinyTrainingSetup.Dataset(Path.Combine(dir, "data"));
        float FirstLoss(string name, string extra)
        {
            using var models = TinyTrainingSetup.Models();
            using var trainer = new Trainer(TinyTrainingSetup.Config(Path.Combine(dir, name), "max_train_steps = 1\n" + extra), data, models, CPU);
            return trainer.Train().Losses[0].Loss;
        }
        var all = FirstLoss("all", "");
        var last = FirstLoss("last", "min_timestep = 999\nmax_timestep = 1000");
        var lastAgain = FirstLoss("last2", "min_timestep = 999\nmax_timestep = 1000");
        Assert.Equal(last, lastAgain);
        Assert.NotEqual(all, last);
    }

    [Fact]
    public void Input_perturbation_adds_gamma_scaled_noise_to_the_noisy_input_only()
    {
        using var generator = new Generator(5);
        using var noise = randn([64, 4, 32, 32], generator: generator);
        using var perturbed = NoiseSampler.InputPerturbation(noise, generator, 0.1, randomStrength: false);
        Assert.Equal(0.1, (perturbed - noise).std().item<float>(), 2);
        using var random = NoiseSampler.InputPerturbation(noise, generator, 0.1, randomStrength: true);
        Assert.InRange((random - noise).std().item<float>(), 0.0, 0.1);
    }

    [Fact]
    public void Debiased_estimation_weights_each_sample_by_one_over_root_snr()
    {
        using var schedule = new ForwardDiffusion();
        using var prediction = ones(2, 4, 8, 8);
        using var target = zeros(2, 4, 8, 8);
        using var weights = ones(2);
        using var timesteps = tensor(new long[] { 10, 700 });
        var snr = schedule.Snr.data<double>().ToArray();
        var expected = (1 / Math.Sqrt(snr[10]) + 1 / Math.Sqrt(snr[700])) / 2;
        Assert.Equal(expected, DiffusionLoss.Compute(prediction, target, timesteps, weights, schedule, debiasedEstimation: true).item<float>(), 4);
        var expectedV = (1 / (snr[10] + 1) + 1 / (snr[700] + 1)) / 2;
        Assert.Equal(expectedV, DiffusionLoss.Compute(prediction, target, timesteps, weights, schedule, vParameterization: true, debiasedEstimation: true).item<float>(), 4);
    }

    [Fact]
    public void V_prediction_loss_scalings_follow_snr_over_snr_plus_one()
    {
        using var schedule = new ForwardDiffusion();
        using var prediction = ones(2, 4, 8, 8);
        using var target = zeros(2, 4, 8, 8);
        using var weights = ones(2);
        using var timesteps = tensor(new long[] { 10, 700 });
        var snr = schedule.Snr.data<double>().ToArray();
        double S(int t) => Math.Min(snr[t], 1000) / (Math.Min(snr[t], 1000) + 1);
        Assert.Equal((S(10) + S(700)) / 2, DiffusionLoss.Compute(prediction, target, timesteps, weights, schedule, scaleVPredLikeNoisePred: true).item<float>(), 4);
        Assert.Equal((1 + 0.5 / S(10) + 1 + 0.5 / S(700)) / 2, DiffusionLoss.Compute(prediction, target, timesteps, weights, schedule, vPredLikeLoss: 0.5).item<float>(), 4);
        var config = TrainingConfig.Parse(Required + "scale_v_pred_loss_like_noise_pred = true\nv_pred_like_loss = 0.5\n");
        Assert.True(config.ScaleVPredLossLikeNoisePred);
        Assert.Equal(0.5, config.VPredLikeLoss);
    }

    [Fact]
    public void Save_every_n_steps_writes_kohya_step_files_and_states_and_save_last_n_steps_prunes_them()
    {
        var data = TinyTrainingSetup.Dataset(Path.Combine(dir, "data"));
        var output = Path.Combine(dir, "out");
        using var models = TinyTrainingSetup.Models();
        using var trainer = new Trainer(TinyTrainingSetup.Config(output, "max_train_steps = 6\nsave_every_n_steps = 2\nsave_last_n_steps = 2\nsave_state = true\nsave_last_n_steps_state = 4"), data, models, CPU);
        trainer.Train();
        Assert.Equal(["tiny-step00000002-state", "tiny-step00000004-state", "tiny-step00000006-state"],
            Directory.GetDirectories(output, "tiny-step*").Select(Path.GetFileName).Order());
        Assert.Equal(["tiny-step00000004.safetensors", "tiny-step00000006.safetensors", "tiny.safetensors"],
            Directory.GetFiles(output, "*.safetensors").Select(Path.GetFileName).Order());
        using var step4 = SafeTensorsFile.Open(Path.Combine(output, "tiny-step00000004.safetensors"));
        Assert.Equal("4", step4.Metadata["ss_steps"]);
    }

    [Fact]
    public void Scale_weight_norms_caps_each_module_delta_at_the_limit()
    {
        using var models = TinyTrainingSetup.Models();
        using var network = LoraNetwork.Create(models.Unet, models.TextEncoder, new NetworkOptions { Dim = 4, Alpha = 4 }, CPU);
        var modules = network.Modules.OfType<LoraModule>().ToList();
        using (no_grad())
        {
            foreach (var m in modules) m.UpWeight.normal_();
            modules[0].UpWeight.mul_(1e-4);
        }
        var small = modules[0].DeltaWeight().norm().item<float>();
        var before = modules[1].DeltaWeight().norm().item<float>();
        Assert.True(before > 1);

        var result = MaxNormRegularization.Apply(network, 1.0);

        Assert.Equal(modules.Count - 1, result.KeysScaled);
        Assert.Equal(small, modules[0].DeltaWeight().norm().item<float>());
        Assert.All(modules.Skip(1), m => Assert.Equal(1.0, m.DeltaWeight().norm().item<float>(), 3));
        Assert.Equal(1.0, result.MaxNorm, 3);
    }

    [Theory]
    [InlineData("standalone.safetensors", TinyVaeFiles.Naming.StandaloneLdm)]
    [InlineData("full.safetensors", TinyVaeFiles.Naming.FullCheckpointLdm)]
    [InlineData("diffusers.safetensors", TinyVaeFiles.Naming.Diffusers)]
    [InlineData("anime.vae.pt", TinyVaeFiles.Naming.StandaloneLdm)]
    public void A_separate_vae_file_replaces_the_base_model_vae(string fileName, TinyVaeFiles.Naming naming)
    {
        var file = Path.Combine(dir, fileName);
        using var written = fileName.EndsWith(".pt") ? TinyVaeFiles.WritePickle(file) : TinyVaeFiles.WriteSafeTensors(file, naming);
        var config = TinyTrainingSetup.Config(Path.Combine(dir, "out"), $"vae = {System.Text.Json.JsonSerializer.Serialize(file)}");

        using var models = TrainingModelLoader.Load(config, CPU);

        var loaded = models.Vae.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, expected) in written.named_parameters())
        {
            Assert.Equal(expected.shape, loaded[name].shape);
            Assert.True(expected.eq(loaded[name]).all().item<bool>(), name);
        }
        Assert.Equal(fileName, models.VaeName);
    }

    [Fact]
    public void A_vae_that_does_not_fit_is_an_error_naming_the_key_and_file()
    {
        var file = Path.Combine(dir, "other.safetensors");
        var tensors = TinyVaeFiles.Make(TinyVaeFiles.Naming.StandaloneLdm).Tensors
            .Select(t => t.Name == "encoder.conv_in.weight" ? (t.Name, Tensor: zeros(5, 3, 3, 3)) : t);
        SafeTensorsWriter.Write(file, tensors.Select(t => KeyValuePair.Create(t.Name, t.Tensor.contiguous())));
        var config = TinyTrainingSetup.Config(Path.Combine(dir, "out"), $"vae = {System.Text.Json.JsonSerializer.Serialize(file)}");

        var e = Assert.Throws<TrainingException>(() => TrainingModelLoader.Load(config, CPU));
        Assert.StartsWith($"vae: {file}: this VAE does not fit", e.Message);
        Assert.Contains("encoder.conv_in.weight is [5, 3, 3, 3]", e.Message);
    }

    [Fact]
    public void Sample_sampler_is_the_sampler_of_prompts_without_ss()
    {
        var data = TinyTrainingSetup.Dataset(Path.Combine(dir, "data"));
        byte[] Sample(string name, string prompt, string extra)
        {
            var prompts = Path.Combine(dir, name + ".txt");
            File.WriteAllText(prompts, prompt + "\n");
            var output = Path.Combine(dir, name);
            var config = TinyTrainingSetup.Config(output, $"max_train_steps = 1\nsample_every_n_epochs = 1\nsample_prompts = {System.Text.Json.JsonSerializer.Serialize(prompts)}\n" + extra);
            using var models = TrainingModelLoader.Load(config, CPU);
            using var trainer = new Trainer(config, data, models, CPU);
            trainer.Train();
            return File.ReadAllBytes(Directory.GetFiles(Path.Combine(output, "sample"), "*.png").Single());
        }

        var explicitEuler = Sample("explicit", "sks, red circle --w 64 --h 64 --d 3 --s 3 --ss euler_a", "");
        var configured = Sample("configured", "sks, red circle --w 64 --h 64 --d 3 --s 3", "sample_sampler = \"euler_a\"");
        var defaultDdim = Sample("default", "sks, red circle --w 64 --h 64 --d 3 --s 3", "");

        Assert.Equal(explicitEuler, configured);
        Assert.NotEqual(explicitEuler, defaultDdim);
        Assert.Contains("sample_sampler", Assert.Throws<ConfigException>(() => TrainingConfig.Parse(Required + "sample_sampler = \"k_dpm_3\"\n")).Problems.Single().Key);
    }

    [Fact]
    public void Weighted_captions_scale_the_states_of_weighted_tokens_only()
    {
        var data = Path.Combine(dir, "data");
        SampleDataset.Generate(data, seed: 5, count: 4);
        float FirstLoss(string name, string extra)
        {
            // The dataset comes from the config here: caption_prefix is a dataset fallback.
            var config = TrainingConfig.Parse($"""
                pretrained_model_name_or_path = "embedded:tiny"
                train_data_dir = {System.Text.Json.JsonSerializer.Serialize(data)}
                output_dir = {System.Text.Json.JsonSerializer.Serialize(Path.Combine(dir, name))}
                resolution = 64
                caption_extension = ".txt"
                train_batch_size = 4
                max_train_steps = 1
                max_token_length = 150
                cache_latents = true
                {extra}
                """);
            using var models = TrainingModelLoader.Load(config, CPU);
            using var trainer = new Trainer(config, TrainingDataset.Build(config), models, CPU);
            return trainer.Train().Losses[0].Loss;
        }
        var plain = FirstLoss("plain", "caption_prefix = \"sks,\"");
        var weightedWithoutWeights = FirstLoss("same", "caption_prefix = \"sks,\"\nweighted_captions = true");
        var weighted = FirstLoss("weighted", "caption_prefix = \"(sks:3.0),\"\nweighted_captions = true");
        Assert.Equal(plain, weightedWithoutWeights);
        Assert.NotEqual(plain, weighted);
    }

    [Fact]
    public void Weighted_tokens_carry_their_run_weight_across_windows()
    {
        using var models = TrainingModelLoader.Load(TinyTrainingSetup.Config(Path.Combine(dir, "out")), CPU);
        var tokenizer = NotebookTrainer.Tokenizers.ClipTokenizer.Load(models.TokenizerDir!);
        var plainText = string.Join(", ", Enumerable.Repeat("red circle", 60));
        var (ids, weights) = tokenizer.EncodeWeightedWindows([("sks, ", 1.0), (plainText, 1.5)], 150);

        Assert.Equal(tokenizer.EncodeWindows("sks, " + plainText, 150), ids);
        var sks = tokenizer.Encode("sks, ").Count;
        Assert.Equal(2, weights.Length);
        Assert.All(weights, w => Assert.Equal(77, w.Length));
        Assert.Equal(Enumerable.Repeat(1f, 1 + sks).Concat(Enumerable.Repeat(1.5f, 75 - sks)).Append(1f), weights[0]);
        Assert.Equal(1.5f, weights[1][1]);

        using var states = ones(1, 152, 8);
        using var weighted = NotebookTrainer.Models.TextEncoding.ApplyTokenWeights(states, tensor(weights.SelectMany(w => w).ToArray()).reshape(1, 2, 77));
        Assert.Equal(1f, weighted[0, 0, 0].item<float>());
        Assert.Equal(1f, weighted[0, sks, 0].item<float>());
        Assert.Equal(1.5f, weighted[0, sks + 1, 0].item<float>());
        Assert.Equal(1.5f, weighted[0, 76, 0].item<float>());
        Assert.Equal(1f, weighted[0, 151, 0].item<float>());
    }

    [Fact]
    public void Sample_at_first_and_sample_every_n_steps_name_images_by_step()
    {
        var data = TinyTrainingSetup.Dataset(Path.Combine(dir, "data"));
        var prompts = Path.Combine(dir, "prompts.txt");
        File.WriteAllText(prompts, "sks, red circle --w 64 --h 64 --d 3 --s 2\n");
        var output = Path.Combine(dir, "out");
        var config = TinyTrainingSetup.Config(output, $"max_train_steps = 4\nsample_at_first = true\nsample_every_n_steps = 2\nsample_prompts = {System.Text.Json.JsonSerializer.Serialize(prompts)}");
        using var models = TrainingModelLoader.Load(config, CPU);
        using var trainer = new Trainer(config, data, models, CPU);
        trainer.Train();
        Assert.Equal(["tiny_000000_00", "tiny_000002_00", "tiny_000004_00"],
            Directory.GetFiles(Path.Combine(output, "sample"), "*.png").Select(f => Path.GetFileName(f)[..14]).Order());
    }

    [Fact]
    public void Save_n_epoch_ratio_sets_the_epoch_save_interval()
    {
        var data = TinyTrainingSetup.Dataset(Path.Combine(dir, "data"), images: 2, batchSize: 4);
        var output = Path.Combine(dir, "out");
        using var models = TinyTrainingSetup.Models();
        using var trainer = new Trainer(TinyTrainingSetup.Config(output, "max_train_epochs = 4\nsave_n_epoch_ratio = 2"), data, models, CPU);
        trainer.Train();
        Assert.Equal(["tiny-000002.safetensors", "tiny.safetensors"], Directory.GetFiles(output, "*.safetensors").Select(Path.GetFileName).Order());
    }
}
