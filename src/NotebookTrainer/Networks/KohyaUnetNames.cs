using NotebookTrainer.Checkpoints;
using NotebookTrainer.Models.UNet;
using static TorchSharp.torch;

namespace NotebookTrainer.Networks;

/// <summary>
/// The module paths kohya names U-Net LoRA modules after. sd-scripts trains SD 1.x/2.x on diffusers' U-Net, so those
/// names are our (diffusers) module paths; it trains SDXL on its own LDM-layout U-Net (<c>library/sdxl_original_unet.py</c>),
/// so SDXL files say <c>lora_unet_input_blocks_4_1_…</c>, <c>lora_unet_middle_block_…</c>, <c>lora_unet_output_blocks_…</c>.
/// That LDM path of each Linear/Conv is the single-file key of its weight, so it comes from <see cref="UNetKeyMap"/>.
/// </summary>
public static class KohyaUnetNames
{
    /// <summary>diffusers module path → LDM module path for an SDXL (text_time) U-Net; null when kohya uses the diffusers paths.</summary>
    public static IReadOnlyDictionary<string, string>? LdmPaths(nn.Module unet)
    {
        if (unet is not UNet2DConditionModel { Config.HasTextTimeEmbedding: true } sdxl) return null;
        const string weight = ".weight";
        var paths = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var mapping in UNetKeyMap.Build(sdxl.Config))
            if (mapping.DiffusersName.EndsWith(weight, StringComparison.Ordinal))
                paths[mapping.DiffusersName[..^weight.Length]] = mapping.LdmName[UNetKeyMap.LdmPrefix.Length..^weight.Length];
        return paths;
    }
}
