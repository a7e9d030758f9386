using static TorchSharp.torch;

namespace NotebookTrainer.Checkpoints;

/// <summary>
/// A base model's weights in diffusers names, one dictionary per component ("unet", "vae", "text_encoder", and for
/// SDXL "text_encoder_2"), with the configs that describe them. Owns its tensors.
/// </summary>
public sealed class StableDiffusionWeights : IDisposable
{
    public const string UnetComponent = "unet";
    public const string VaeComponent = "vae";
    public const string TextEncoderComponent = "text_encoder";
    public const string TextEncoder2Component = "text_encoder_2";
    public static readonly string[] ComponentNames = [UnetComponent, VaeComponent, TextEncoderComponent];
    public static readonly string[] SdxlComponentNames = [.. ComponentNames, TextEncoder2Component];

    public StableDiffusionWeights(ModelArchitecture architecture, DiffusersConfigs configs)
    {
        Architecture = architecture;
        Configs = configs;
        foreach (var name in ComponentNamesOf(architecture)) Components[name] = new Dictionary<string, Tensor>(StringComparer.Ordinal);
    }

    public static string[] ComponentNamesOf(ModelArchitecture architecture) =>
        architecture == ModelArchitecture.StableDiffusionXL ? SdxlComponentNames : ComponentNames;

    public ModelArchitecture Architecture { get; }
    public DiffusersConfigs Configs { get; }
    public Dictionary<string, Dictionary<string, Tensor>> Components { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, Tensor> Unet => Components[UnetComponent];
    public Dictionary<string, Tensor> Vae => Components[VaeComponent];
    public Dictionary<string, Tensor> TextEncoder => Components[TextEncoderComponent];
    public Dictionary<string, Tensor>? TextEncoder2 => Components.GetValueOrDefault(TextEncoder2Component);

    /// <summary>Single-file keys outside the components, under their single-file names; written back unchanged.</summary>
    public Dictionary<string, Tensor> Passthrough { get; } = new(StringComparer.Ordinal);

    /// <summary>safetensors metadata of the source file (kept when writing a single file back).</summary>
    public Dictionary<string, string> Metadata { get; } = new(StringComparer.Ordinal);

    /// <summary>A diffusers <c>tokenizer/</c> folder found with the model, if any.</summary>
    public string? TokenizerDir { get; set; }

    public string? SourcePath { get; set; }

    /// <summary>True when the scheduler config says v_prediction (SD2 768-v); the weights alone cannot tell.</summary>
    public bool IsVPrediction => Configs.PredictionType == "v_prediction";

    public void Dispose()
    {
        foreach (var tensor in Components.Values.SelectMany(c => c.Values).Concat(Passthrough.Values)) tensor.Dispose();
        foreach (var component in Components.Values) component.Clear();
        Passthrough.Clear();
    }
}
