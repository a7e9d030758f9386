using NotebookTrainer.World;

namespace NotebookTrainer.Checkpoints;

/// <summary>What a key set looks like: which model family, whether we can train on it, and why not.</summary>
public sealed record ArchitectureDetection(ModelArchitecture Architecture, bool Supported, string Description);

/// <summary>
/// Tells model families apart from tensor names and a few shapes, without loading any weights.
/// SD1 and SD2 differ in the cross-attention width (768 vs 1024); SDXL has two text encoders (sgm's
/// <c>conditioner.embedders.0/1</c>) and 2048. v-prediction (SD2 768-v, NoobAI-style SDXL) is a training choice the
/// weights cannot show; it comes from a scheduler config or a flag.
/// </summary>
public static class ArchitectureDetector
{
    const string CrossAttentionProbe = "model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight";
    const string ConvInProbe = "model.diffusion_model.input_blocks.0.0.weight";
    const string SupportedHint = "NotebookTrainer trains LoRA on SD1.x and SD2.x base models; pass one of those.";
    const string SdxlScope = "SDXL models train LoRA / LoCon / LoHa networks, sample, and load for inspection, conversion and `ntrain model verify`; full-model training on SDXL is not available yet.";
    const string VPredictionHint = "v-prediction cannot be seen in the weights: take it from a config folder whose scheduler has prediction_type v_prediction, or pass --v_parameterization.";

    public static ArchitectureDetection DetectSingleFile(IReadOnlyCollection<string> names, Func<string, long[]> shape)
    {
        var lora = names.FirstOrDefault(IsNetworkKey);
        if (lora != null)
            return new(ModelArchitecture.LoRA, false,
                $"this is a LoRA/LyCORIS network file (e.g. key '{lora}'), not a base model. Load it as a network (network_weights) and pass a full SD1/SD2 checkpoint as the base model.");
        if (names.Any(n => n.StartsWith("conditioner.embedders.", StringComparison.Ordinal)))
            return DetectSdxl(names, shape);
        if (names.Any(n => n.Contains("joint_blocks.", StringComparison.Ordinal)))
            return new(ModelArchitecture.StableDiffusion3, false, $"SD3 checkpoint (MMDiT joint_blocks.* keys) is not supported. {SupportedHint}");
        if (names.Any(n => n.Contains("double_blocks.", StringComparison.Ordinal) || n.StartsWith("single_blocks.", StringComparison.Ordinal)))
            return new(ModelArchitecture.Flux, false, $"Flux checkpoint (double_blocks/single_blocks keys) is not supported. {SupportedHint}");

        var set = names as IReadOnlySet<string> ?? names.ToHashSet(StringComparer.Ordinal);
        if (names.Any(n => n.StartsWith(UNetKeyMap.LdmPrefix, StringComparison.Ordinal)))
        {
            var inpainting = set.Contains(ConvInProbe) && shape(ConvInProbe) is [_, 9, ..] ? ", inpainting (9 input channels)" : "";
            long? context = set.Contains(CrossAttentionProbe) ? shape(CrossAttentionProbe)[^1] : null;
            var openClip = names.Any(n => n.StartsWith(ClipTextKeyMap.OpenClipPrefix, StringComparison.Ordinal));
            return (context, openClip) switch
            {
                (768, _) or (null, false) => new(ModelArchitecture.StableDiffusion1, true, $"Stable Diffusion 1.x (cross-attention 768, CLIP ViT-L/14){inpainting}"),
                (1024, _) or (null, true) => new(ModelArchitecture.StableDiffusion2, true,
                    $"Stable Diffusion 2.x (cross-attention 1024, OpenCLIP ViT-H/14){inpainting}. v-prediction (768-v models) cannot be seen in the weights: take it from a config folder whose scheduler has prediction_type v_prediction, or pass --v_parameterization."),
                (2048, _) => new(ModelArchitecture.StableDiffusionXL, false, $"an SDXL-style U-Net (cross-attention 2048) without SDXL's text encoders (conditioner.embedders.0/1.*); pass the full SDXL checkpoint."),
                // The embedded tiny model (Models/TinyStableDiffusion): SD1 layout at toy widths, described by its config folder.
                (< 768, false) when names.Any(n => n.StartsWith(ClipTextKeyMap.HfPrefix, StringComparison.Ordinal)) => new(ModelArchitecture.StableDiffusion1, true,
                    $"Stable Diffusion 1.x architecture at reduced width (cross-attention {context}, like the embedded tiny model); its widths come from the config/ folder next to it or --config"),
                (< 768, true) => new(ModelArchitecture.StableDiffusion2, true,
                    $"Stable Diffusion 2.x architecture at reduced width (cross-attention {context}, OpenCLIP text keys); its widths come from the config/ folder next to it or --config"),
                _ => new(ModelArchitecture.Unknown, false, $"an LDM U-Net with cross-attention width {context}, which matches no supported model. {SupportedHint}"),
            };
        }
        if (set.Contains("encoder.conv_in.weight") && set.Contains("decoder.conv_in.weight"))
            return new(ModelArchitecture.StandaloneVae, false, "a standalone VAE file (encoder.*/decoder.* keys only), not a full model. Pass a full checkpoint as the base model; a separate VAE is set with the vae option.");
        if (set.Contains("conv_in.weight") && names.Any(n => n.StartsWith("down_blocks.", StringComparison.Ordinal)))
            return new(ModelArchitecture.Unknown, false, "diffusers-format component weights (down_blocks.* at top level). Pass the diffusers model folder (with unet/, vae/, text_encoder/) instead of one component file.");
        var prefixes = names.Select(n => n.Split('.')[0]).Distinct().Take(6);
        return new(ModelArchitecture.Unknown, false,
            $"no Stable Diffusion U-Net keys (model.diffusion_model.*) found; top-level names: {string.Join(", ", prefixes)}. {SupportedHint}");
    }

    /// <summary>sgm's SDXL layout: CLIP ViT-L under conditioner.embedders.0.transformer, OpenCLIP ViT-bigG under conditioner.embedders.1.model.</summary>
    static ArchitectureDetection DetectSdxl(IReadOnlyCollection<string> names, Func<string, long[]> shape)
    {
        bool Has(string prefix) => names.Any(n => n.StartsWith(prefix, StringComparison.Ordinal));
        if (!Has(ClipTextKeyMap.SdxlHfPrefix) && Has("conditioner.embedders.0.model."))
            return new(ModelArchitecture.StableDiffusionXL, false, $"an SDXL refiner (one OpenCLIP text encoder, conditioner.embedders.0.model.*), which is not supported; pass an SDXL base-family model (SDXL base, Pony, Illustrious, NoobAI).");
        if (!Has(ClipTextKeyMap.SdxlHfPrefix) || !Has(ClipTextKeyMap.SdxlOpenClipPrefix))
            return new(ModelArchitecture.StableDiffusionXL, false, $"an SDXL checkpoint without {(Has(ClipTextKeyMap.SdxlHfPrefix) ? ClipTextKeyMap.SdxlOpenClipPrefix : ClipTextKeyMap.SdxlHfPrefix)}* (one of its two text encoders); pass the full SDXL checkpoint.");
        var toK = names.Where(n => n.StartsWith(UNetKeyMap.LdmPrefix, StringComparison.Ordinal) && n.EndsWith(".attn2.to_k.weight", StringComparison.Ordinal)).Order(StringComparer.Ordinal).FirstOrDefault();
        return toK is null
            ? new(ModelArchitecture.StableDiffusionXL, true, $"Stable Diffusion XL (two text encoders; no U-Net attention keys found to tell the width). {SdxlScope}")
            : SdxlDescription(shape(toK)[^1]);
    }

    static ArchitectureDetection SdxlDescription(long context, string v = "") => context switch
    {
        2048 => new(ModelArchitecture.StableDiffusionXL, true, $"Stable Diffusion XL (cross-attention 2048: CLIP ViT-L/14 + OpenCLIP ViT-bigG/14, pooled text and size/crop conditioning){v}. {(v.Length == 0 ? VPredictionHint + " " : "")}{SdxlScope}"),
        < 2048 => new(ModelArchitecture.StableDiffusionXL, true, $"Stable Diffusion XL architecture at reduced width (cross-attention {context}); its widths come from the config/ folder next to it or --config{v}. {SdxlScope}"),
        _ => new(ModelArchitecture.Unknown, false, $"an SDXL-layout model with cross-attention width {context}, which matches no supported model. {SupportedHint}"),
    };

    /// <summary>A diffusers folder is identified by its U-Net config, since every family shares the folder layout.</summary>
    public static ArchitectureDetection DetectDiffusers(DiffusersConfigs configs)
    {
        var unet = configs.UnetConfig;
        var inpainting = unet.InChannels == 9 ? ", inpainting (9 input channels)" : "";
        var v = configs.PredictionType == "v_prediction" ? ", v-prediction" : "";
        if (configs.TextEncoder2 != null || unet.HasTextTimeEmbedding)
            return configs.TextEncoder2 != null && unet.HasTextTimeEmbedding
                ? SdxlDescription(unet.CrossAttentionDim, inpainting + v)
                : new(ModelArchitecture.StableDiffusionXL, false, $"an SDXL-style folder needs both text_encoder_2/ and a unet whose addition_embed_type is \"text_time\"; this one has only {(configs.TextEncoder2 != null ? "text_encoder_2/" : "the text_time unet")}.");
        return unet.CrossAttentionDim switch
        {
            768 => new(ModelArchitecture.StableDiffusion1, true, $"Stable Diffusion 1.x (cross-attention 768){inpainting}{v}"),
            1024 => new(ModelArchitecture.StableDiffusion2, true, $"Stable Diffusion 2.x (cross-attention 1024){inpainting}{v}"),
            2048 => new(ModelArchitecture.StableDiffusionXL, false, $"SDXL (cross-attention 2048) is not supported. {SupportedHint}"),
            // Reduced-width models (the embedded tiny one, reference fixtures): the folder's config.json files give every width.
            < 768 and var small => unet.UseLinearProjection
                ? new(ModelArchitecture.StableDiffusion2, true, $"Stable Diffusion 2.x architecture at reduced width (cross-attention {small}, linear projections){inpainting}{v}")
                : new(ModelArchitecture.StableDiffusion1, true, $"Stable Diffusion 1.x architecture at reduced width (cross-attention {small}){inpainting}{v}"),
            var other => new(ModelArchitecture.Unknown, false, $"a U-Net with cross_attention_dim {other}, which matches no supported model. {SupportedHint}"),
        };
    }

    static bool IsNetworkKey(string name) =>
        name.StartsWith("lora_unet_", StringComparison.Ordinal) || name.StartsWith("lora_te", StringComparison.Ordinal)
        || name.Contains(".lora_down.", StringComparison.Ordinal) || name.Contains(".lora_up.", StringComparison.Ordinal)
        || name.Contains(".hada_w1_a", StringComparison.Ordinal) || name.Contains(".lokr_w1", StringComparison.Ordinal)
        || name.Contains(".lora_A.", StringComparison.Ordinal) || name.Contains(".lora_B.", StringComparison.Ordinal);
}
