using NotebookTrainer.Models.Clip;
using NotebookTrainer.ModelConfigs;
using NotebookTrainer.Models.UNet;
using NotebookTrainer.Models.Vae;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.Models;

/// <summary>
/// A loaded Stable Diffusion 1.x/2.x or SDXL base model: the modules (frozen, on one device, in one dtype; SDXL adds
/// <see cref="TextEncoder2"/>), their configs, the noise schedule config and the tokenizer folder. Owns the modules.
/// </summary>
public sealed class StableDiffusionModel : IDisposable
{
    public StableDiffusionModel(UNet2DConditionModel unet, AutoencoderKL vae, CLIPTextModel textEncoder,
        NoiseSchedulerConfig scheduler, string? tokenizerDir, CLIPTextModelWithProjection? textEncoder2 = null)
    {
        Unet = unet;
        TextEncoder2 = textEncoder2;
        Vae = vae;
        TextEncoder = textEncoder;
        Scheduler = scheduler;
        TokenizerDir = tokenizerDir;
    }

    public UNet2DConditionModel Unet { get; }
    public AutoencoderKL Vae { get; }
    public CLIPTextModel TextEncoder { get; }

    /// <summary>SDXL's OpenCLIP ViT-bigG text encoder with its projection; null for SD 1.x/2.x.</summary>
    public CLIPTextModelWithProjection? TextEncoder2 { get; }

    public bool IsSdxl => TextEncoder2 is not null;
    public NoiseSchedulerConfig Scheduler { get; }

    /// <summary>A folder with the CLIP tokenizer files (vocab.json, merges.txt), when the model came with one.</summary>
    public string? TokenizerDir { get; }

    public bool IsVPrediction => Scheduler.PredictionType == "v_prediction";

    /// <summary>
    /// Builds the modules on the meta device from the configs and gives them the weights (diffusers names),
    /// converted to <paramref name="dtype"/> and moved to <paramref name="device"/> tensor by tensor.
    /// </summary>
    /// <param name="source">Names the checkpoint in error messages.</param>
    public static StableDiffusionModel FromWeights(string source,
        UNet2DConditionConfig unetConfig, IReadOnlyDictionary<string, Tensor> unetWeights,
        AutoencoderKLConfig vaeConfig, IReadOnlyDictionary<string, Tensor> vaeWeights,
        CLIPTextConfig textConfig, IReadOnlyDictionary<string, Tensor> textWeights,
        NoiseSchedulerConfig scheduler, string? tokenizerDir, ScalarType? dtype = null, Device? device = null,
        CLIPTextConfig? text2Config = null, IReadOnlyDictionary<string, Tensor>? text2Weights = null)
    {
        var meta = torch.device("meta");
        var unet = new UNet2DConditionModel(unetConfig, dtype, meta);
        var vae = new AutoencoderKL(vaeConfig, dtype, meta);
        var text = new CLIPTextModel(textConfig, dtype, meta);
        var text2 = text2Config is null ? null : new CLIPTextModelWithProjection(text2Config, dtype, meta);
        var modules = new List<nn.Module> { unet, vae, text };
        if (text2 is not null) modules.Add(text2);
        try
        {
            ModuleWeights.Assign(unet, unetWeights, $"{source} (unet)", dtype, device);
            ModuleWeights.Assign(vae, vaeWeights, $"{source} (vae)", dtype, device);
            ModuleWeights.Assign(text, WithoutPositionIds(textWeights), $"{source} (text_encoder)", dtype, device);
            if (text2 is not null)
                ModuleWeights.Assign(text2, WithoutPositionIds(text2Weights ?? throw new ArgumentNullException(nameof(text2Weights))), $"{source} (text_encoder_2)", dtype, device);
        }
        catch
        {
            foreach (var module in modules) module.Dispose();
            throw;
        }
        foreach (var module in modules)
            module.eval();
        return new StableDiffusionModel(unet, vae, text, scheduler, tokenizerDir, text2);
    }

    /// <summary>Older files carry the position_ids buffer (int64 [1, 77]); it is arange and not a weight.</summary>
    static IReadOnlyDictionary<string, Tensor> WithoutPositionIds(IReadOnlyDictionary<string, Tensor> weights) =>
        weights.ContainsKey("text_model.embeddings.position_ids")
            ? weights.Where(kv => kv.Key != "text_model.embeddings.position_ids").ToDictionary()
            : weights;

    public void Dispose()
    {
        Unet.Dispose();
        Vae.Dispose();
        TextEncoder.Dispose();
        TextEncoder2?.Dispose();
    }
}
