using System.Text.Json;
using System.Text.Json.Nodes;
using NotebookTrainer.IO;
using NotebookTrainer.ModelConfigs;

namespace NotebookTrainer.Checkpoints;

/// <summary>
/// The config.json of each diffusers component. Single files carry none, so they come from a diffusers folder
/// (<c>--config DIR</c>, like diffusers' <c>from_single_file(config=...)</c>) or from built-in SD1/SD2/SDXL defaults.
/// SDXL adds <c>text_encoder_2/config.json</c>.
/// The JSON objects are kept as read (they are written back unchanged); <see cref="UnetConfig"/> and its siblings are the
/// typed configs that the key maps and the modules take.
/// </summary>
public sealed class DiffusersConfigs
{
    public DiffusersConfigs(JsonObject unet, JsonObject vae, JsonObject textEncoder, JsonObject? scheduler, string source, JsonObject? textEncoder2 = null)
    {
        Unet = unet;
        Vae = vae;
        TextEncoder = textEncoder;
        TextEncoder2 = textEncoder2;
        Scheduler = scheduler;
        Source = source;
    }

    public JsonObject Unet { get; }
    public JsonObject Vae { get; }
    public JsonObject TextEncoder { get; }
    /// <summary>SDXL's second text encoder (CLIPTextModelWithProjection); null for SD 1.x/2.x.</summary>
    public JsonObject? TextEncoder2 { get; }
    public JsonObject? Scheduler { get; }

    /// <summary>Where the configs came from: a folder path or "built-in … defaults".</summary>
    public string Source { get; }

    public UNet2DConditionConfig UnetConfig => UNet2DConditionConfig.FromJson(Unet, ComponentSource("unet"));
    public AutoencoderKLConfig VaeConfig => AutoencoderKLConfig.FromJson(Vae, ComponentSource("vae"));
    public CLIPTextConfig TextEncoderConfig => CLIPTextConfig.FromJson(TextEncoder, ComponentSource("text_encoder"));
    public CLIPTextConfig? TextEncoder2Config => TextEncoder2 is { } t ? CLIPTextConfig.FromJson(t, ComponentSource(StableDiffusionWeights.TextEncoder2Component)) : null;
    public NoiseSchedulerConfig? SchedulerConfig => Scheduler is { } s ? NoiseSchedulerConfig.FromJson(s, ComponentSource("scheduler")) : null;

    /// <summary>"epsilon" or "v_prediction". SD2 768-v needs v_prediction and the weights cannot tell, so this comes from a scheduler config.</summary>
    public string? PredictionType => Scheduler?["prediction_type"]?.GetValue<string>();

    public string ComponentSource(string component) => Directory.Exists(Source)
        ? Path.Combine(Source, component, component == "scheduler" ? "scheduler_config.json" : "config.json")
        : $"{Source} ({component})";

    public static readonly string[] ComponentFolders = ["unet", "vae", "text_encoder"];

    /// <summary>Reads unet/, vae/, text_encoder/ config.json and (if present) text_encoder_2/config.json and scheduler/scheduler_config.json.</summary>
    public static DiffusersConfigs Read(string dir)
    {
        if (!Directory.Exists(dir))
            throw new CheckpointFormatException($"{dir}: config folder not found. Pass a diffusers model folder that has unet/, vae/ and text_encoder/ with config.json each.");
        var missing = ComponentFolders.Where(c => !File.Exists(Path.Combine(dir, c, "config.json"))).ToList();
        if (missing.Count > 0)
            throw new CheckpointFormatException($"{dir}: missing {string.Join(", ", missing.Select(m => m + "/config.json"))}. A diffusers folder needs unet/, vae/ and text_encoder/ each with config.json.");
        var schedulerPath = Path.Combine(dir, "scheduler", "scheduler_config.json");
        var text2Path = Path.Combine(dir, StableDiffusionWeights.TextEncoder2Component, "config.json");
        return new DiffusersConfigs(
            ReadObject(Path.Combine(dir, "unet", "config.json")),
            ReadObject(Path.Combine(dir, "vae", "config.json")),
            ReadObject(Path.Combine(dir, "text_encoder", "config.json")),
            File.Exists(schedulerPath) ? ReadObject(schedulerPath) : null,
            dir,
            File.Exists(text2Path) ? ReadObject(text2Path) : null);
    }

    /// <summary>Writes the configs into a diffusers folder (atomically, one file per component).</summary>
    public void Write(string dir)
    {
        var options = new JsonSerializerOptions { WriteIndented = true };
        AtomicFile.WriteAllText(Path.Combine(dir, "unet", "config.json"), Unet.ToJsonString(options));
        AtomicFile.WriteAllText(Path.Combine(dir, "vae", "config.json"), Vae.ToJsonString(options));
        AtomicFile.WriteAllText(Path.Combine(dir, "text_encoder", "config.json"), TextEncoder.ToJsonString(options));
        if (TextEncoder2 != null)
            AtomicFile.WriteAllText(Path.Combine(dir, StableDiffusionWeights.TextEncoder2Component, "config.json"), TextEncoder2.ToJsonString(options));
        if (Scheduler != null)
            AtomicFile.WriteAllText(Path.Combine(dir, "scheduler", "scheduler_config.json"), Scheduler.ToJsonString(options));
    }

    public DiffusersConfigs Clone() => new(
        (JsonObject)Unet.DeepClone(), (JsonObject)Vae.DeepClone(), (JsonObject)TextEncoder.DeepClone(),
        (JsonObject?)Scheduler?.DeepClone(), Source, (JsonObject?)TextEncoder2?.DeepClone());

    static JsonObject ReadObject(string path)
    {
        try
        {
            return JsonNode.Parse(File.ReadAllText(path)) as JsonObject
                ?? throw new CheckpointFormatException($"{path}: expected a JSON object.");
        }
        catch (JsonException e)
        {
            throw new CheckpointFormatException($"{path}: not valid JSON (line {e.LineNumber + 1}): {e.Message}");
        }
    }

    /// <summary>The public SD 1.5 / SD 2.1 / SDXL base 1.0 configs (runwayml/stable-diffusion-v1-5, stabilityai/stable-diffusion-2-1, stabilityai/stable-diffusion-xl-base-1.0).</summary>
    public static DiffusersConfigs Defaults(ModelArchitecture architecture) => architecture switch
    {
        ModelArchitecture.StableDiffusion1 => Parse(Sd1Unet, SdVae(512), Sd1Text, SchedulerDefaults("epsilon"), "built-in SD1.5 defaults"),
        ModelArchitecture.StableDiffusion2 => Parse(Sd2Unet, SdVae(768), Sd2Text, SchedulerDefaults("epsilon"), "built-in SD2.1 defaults"),
        ModelArchitecture.StableDiffusionXL => Parse(SdxlUnet, SdxlVae, Sd1Text, SdxlScheduler, "built-in SDXL base 1.0 defaults", SdxlText2),
        _ => throw new ArgumentException($"no built-in configs for {architecture}; only SD1, SD2 and SDXL are supported.", nameof(architecture)),
    };

    static DiffusersConfigs Parse(string unet, string vae, string text, string scheduler, string source, string? text2 = null) =>
        new((JsonObject)JsonNode.Parse(unet)!, (JsonObject)JsonNode.Parse(vae)!, (JsonObject)JsonNode.Parse(text)!, (JsonObject)JsonNode.Parse(scheduler)!, source,
            text2 is null ? null : (JsonObject)JsonNode.Parse(text2)!);

    const string Sd1Unet = """
        {"_class_name": "UNet2DConditionModel", "act_fn": "silu", "attention_head_dim": 8,
         "block_out_channels": [320, 640, 1280, 1280], "center_input_sample": false, "cross_attention_dim": 768,
         "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
         "downsample_padding": 1, "flip_sin_to_cos": true, "freq_shift": 0, "in_channels": 4, "layers_per_block": 2,
         "mid_block_scale_factor": 1, "norm_eps": 1e-05, "norm_num_groups": 32, "out_channels": 4, "sample_size": 64,
         "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"]}
        """;

    const string Sd2Unet = """
        {"_class_name": "UNet2DConditionModel", "act_fn": "silu", "attention_head_dim": [5, 10, 20, 20],
         "block_out_channels": [320, 640, 1280, 1280], "center_input_sample": false, "cross_attention_dim": 1024,
         "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
         "downsample_padding": 1, "dual_cross_attention": false, "flip_sin_to_cos": true, "freq_shift": 0, "in_channels": 4,
         "layers_per_block": 2, "mid_block_scale_factor": 1, "norm_eps": 1e-05, "norm_num_groups": 32, "out_channels": 4,
         "sample_size": 96, "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
         "upcast_attention": true, "use_linear_projection": true}
        """;

    static string SdVae(int sampleSize) => $$"""
        {"_class_name": "AutoencoderKL", "act_fn": "silu", "block_out_channels": [128, 256, 512, 512],
         "down_block_types": ["DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D"],
         "in_channels": 3, "latent_channels": 4, "layers_per_block": 2, "norm_num_groups": 32, "out_channels": 3,
         "sample_size": {{sampleSize}}, "scaling_factor": 0.18215,
         "up_block_types": ["UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D"]}
        """;

    const string Sd1Text = """
        {"architectures": ["CLIPTextModel"], "attention_dropout": 0.0, "bos_token_id": 0, "dropout": 0.0, "eos_token_id": 2,
         "hidden_act": "quick_gelu", "hidden_size": 768, "initializer_factor": 1.0, "initializer_range": 0.02,
         "intermediate_size": 3072, "layer_norm_eps": 1e-05, "max_position_embeddings": 77, "model_type": "clip_text_model",
         "num_attention_heads": 12, "num_hidden_layers": 12, "pad_token_id": 1, "projection_dim": 768, "vocab_size": 49408}
        """;

    const string Sd2Text = """
        {"architectures": ["CLIPTextModel"], "attention_dropout": 0.0, "bos_token_id": 0, "dropout": 0.0, "eos_token_id": 2,
         "hidden_act": "gelu", "hidden_size": 1024, "initializer_factor": 1.0, "initializer_range": 0.02,
         "intermediate_size": 4096, "layer_norm_eps": 1e-05, "max_position_embeddings": 77, "model_type": "clip_text_model",
         "num_attention_heads": 16, "num_hidden_layers": 23, "pad_token_id": 1, "projection_dim": 512, "vocab_size": 49408}
        """;

    const string SdxlUnet = """
        {"_class_name": "UNet2DConditionModel", "act_fn": "silu", "addition_embed_type": "text_time", "addition_embed_type_num_heads": 64,
         "addition_time_embed_dim": 256, "attention_head_dim": [5, 10, 20], "block_out_channels": [320, 640, 1280],
         "center_input_sample": false, "cross_attention_dim": 2048, "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
         "downsample_padding": 1, "dual_cross_attention": false, "flip_sin_to_cos": true, "freq_shift": 0, "in_channels": 4,
         "layers_per_block": 2, "mid_block_scale_factor": 1, "norm_eps": 1e-05, "norm_num_groups": 32, "out_channels": 4,
         "projection_class_embeddings_input_dim": 2816, "sample_size": 128, "transformer_layers_per_block": [1, 2, 10],
         "up_block_types": ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"], "upcast_attention": null, "use_linear_projection": true}
        """;

    const string SdxlVae = """
        {"_class_name": "AutoencoderKL", "act_fn": "silu", "block_out_channels": [128, 256, 512, 512],
         "down_block_types": ["DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D"],
         "force_upcast": true, "in_channels": 3, "latent_channels": 4, "layers_per_block": 2, "norm_num_groups": 32, "out_channels": 3,
         "sample_size": 1024, "scaling_factor": 0.13025,
         "up_block_types": ["UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D"]}
        """;

    const string SdxlText2 = """
        {"architectures": ["CLIPTextModelWithProjection"], "attention_dropout": 0.0, "bos_token_id": 0, "dropout": 0.0, "eos_token_id": 2,
         "hidden_act": "gelu", "hidden_size": 1280, "initializer_factor": 1.0, "initializer_range": 0.02,
         "intermediate_size": 5120, "layer_norm_eps": 1e-05, "max_position_embeddings": 77, "model_type": "clip_text_model",
         "num_attention_heads": 20, "num_hidden_layers": 32, "pad_token_id": 1, "projection_dim": 1280, "vocab_size": 49408}
        """;

    const string SdxlScheduler = """
        {"_class_name": "EulerDiscreteScheduler", "beta_end": 0.012, "beta_schedule": "scaled_linear", "beta_start": 0.00085,
         "clip_sample": false, "interpolation_type": "linear", "num_train_timesteps": 1000, "prediction_type": "epsilon",
         "sample_max_value": 1.0, "set_alpha_to_one": false, "skip_prk_steps": true, "steps_offset": 1,
         "timestep_spacing": "leading", "trained_betas": null, "use_karras_sigmas": false}
        """;

    static string SchedulerDefaults(string prediction) => $$"""
        {"_class_name": "PNDMScheduler", "beta_end": 0.012, "beta_schedule": "scaled_linear", "beta_start": 0.00085,
         "clip_sample": false, "num_train_timesteps": 1000, "prediction_type": "{{prediction}}", "set_alpha_to_one": false,
         "skip_prk_steps": true, "steps_offset": 1, "trained_betas": null}
        """;
}
