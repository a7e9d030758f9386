namespace NotebookTrainer.Checkpoints;

/// <summary>
/// The full single-file ↔ diffusers name table for SD1, SD2 or SDXL (sgm layout), plus the rules for the keys that are not weights
/// of the three components: kept verbatim (schedule buffers, position_ids, OpenCLIP's unused last layer and
/// projection) so a round trip loses nothing, or ignored (EMA copies).
/// </summary>
public static class SingleFileLayout
{
    public static readonly string[] ScheduleBuffers =
    [
        "betas", "alphas_cumprod", "alphas_cumprod_prev", "sqrt_alphas_cumprod", "sqrt_one_minus_alphas_cumprod",
        "log_one_minus_alphas_cumprod", "sqrt_recip_alphas_cumprod", "sqrt_recipm1_alphas_cumprod", "posterior_variance",
        "posterior_log_variance_clipped", "posterior_mean_coef1", "posterior_mean_coef2",
    ];

    public const string EmaPrefix = "model_ema.";

    public static List<KeyMapping> Mappings(ModelArchitecture architecture, DiffusersConfigs configs)
    {
        var mappings = UNetKeyMap.Build(configs.UnetConfig);
        mappings.AddRange(VaeKeyMap.Build(configs.VaeConfig));
        mappings.AddRange(architecture switch
        {
            ModelArchitecture.StableDiffusion1 => ClipTextKeyMap.BuildHuggingFace(configs.TextEncoderConfig),
            ModelArchitecture.StableDiffusion2 => ClipTextKeyMap.BuildOpenClip(configs.TextEncoderConfig),
            ModelArchitecture.StableDiffusionXL => ClipTextKeyMap.BuildHuggingFace(configs.TextEncoderConfig, ClipTextKeyMap.SdxlHfPrefix)
                .Concat(ClipTextKeyMap.BuildOpenClip(configs.TextEncoder2Config ?? throw new CheckpointFormatException($"{configs.Source}: an SDXL model needs text_encoder_2/config.json."),
                    ClipTextKeyMap.SdxlOpenClipPrefix, StableDiffusionWeights.TextEncoder2Component, projection: true)),
            _ => throw new ArgumentException($"no single-file layout for {architecture}.", nameof(architecture)),
        });
        return mappings;
    }

    public static bool IsIgnored(string name) => name.StartsWith(EmaPrefix, StringComparison.Ordinal);

    /// <summary>Keys that belong to no component but are carried unchanged so writing the file back loses nothing.</summary>
    public static bool IsPassthrough(string name) =>
        ScheduleBuffers.Contains(name)
        || name == ClipTextKeyMap.HfPrefix + ClipTextKeyMap.PositionIds
        || name == ClipTextKeyMap.HfPrefix + "embeddings.position_ids"
        || name.StartsWith(ClipTextKeyMap.OpenClipPrefix, StringComparison.Ordinal)
        || name == ClipTextKeyMap.SdxlHfPrefix + ClipTextKeyMap.PositionIds
        || name == ClipTextKeyMap.SdxlOpenClipPrefix + "logit_scale";

    /// <summary>
    /// SD1 files written by some tools drop <c>text_model.</c> after <c>cond_stage_model.transformer.</c>;
    /// this gives the name a mapping has in such a file.
    /// </summary>
    public static string WithoutTextModel(string ldmName) =>
        ldmName.StartsWith(ClipTextKeyMap.HfPrefix + "text_model.", StringComparison.Ordinal)
            ? ClipTextKeyMap.HfPrefix + ldmName[(ClipTextKeyMap.HfPrefix.Length + "text_model.".Length)..]
            : ldmName;
}
