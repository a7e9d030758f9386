using System.Text.RegularExpressions;

namespace NotebookTrainer.Analysis;

/// <summary>Which part of the model a kohya module name belongs to, for diffusers and LDM (input_blocks) naming.</summary>
public static partial class LoraBlocks
{
    public static string Of(string moduleName)
    {
        if (moduleName.StartsWith("lora_te", StringComparison.Ordinal)) return "te";
        if (DiffusersBlock().Match(moduleName) is { Success: true } d)
            return d.Groups["kind"].Value == "down" ? $"down {d.Groups["i"].Value}" : $"up {d.Groups["i"].Value}";
        if (moduleName.Contains("_mid_block_", StringComparison.Ordinal) || moduleName.Contains("_middle_block_", StringComparison.Ordinal)) return "mid";
        if (LdmBlock().Match(moduleName) is { Success: true } l)
            return $"{(l.Groups["kind"].Value == "input" ? "down" : "up")} {int.Parse(l.Groups["i"].Value) / 3}";
        return "other";
    }

    /// <summary>Sort key: te, down 0…, mid, up 0…, other.</summary>
    public static (int, int) Order(string block) => block switch
    {
        "te" => (0, 0),
        "mid" => (2, 0),
        "other" => (4, 0),
        _ when block.StartsWith("down ", StringComparison.Ordinal) => (1, int.Parse(block[5..])),
        _ when block.StartsWith("up ", StringComparison.Ordinal) => (3, int.Parse(block[3..])),
        _ => (5, 0),
    };

    [GeneratedRegex(@"^lora_unet_(?<kind>down|up)_blocks_(?<i>\d+)_")]
    private static partial Regex DiffusersBlock();

    [GeneratedRegex(@"^lora_unet_(?<kind>input|output)_blocks_(?<i>\d+)_")]
    private static partial Regex LdmBlock();
}
