using NotebookTrainer.Models.Clip;
using NotebookTrainer.ModelConfigs;
using NotebookTrainer.Models.UNet;
using NotebookTrainer.Models.Vae;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.Models;

/// <summary>
/// A loaded Stable Diffusion 1.x/2.x base model: the three modules (frozen, on one device, in one dtype),
/// their configs, the noise schedule config and the tokenizer folder. Owns the modules.
/// </summary>
public sealed class StableDiffusionModel : IDisposable
{
    public StableDiffusionModel(UNet2DConditionModel unet, AutoencoderKL vae, CLIPTextModel textEncoder,
        NoiseSchedulerConfig scheduler, string? tokenizerDir)
    {
        Unet = unet;
        Vae = vae;
        TextEncoder = textEncoder;
        Scheduler = scheduler;
        TokenizerDir = tokenizerDir;
    }

    public UNet2DConditionModel Unet { get; }
    public AutoencoderKL Vae { get; }
    public CLIPTextModel TextEncoder { get; }
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
        NoiseSchedulerConfig scheduler, string? tokenizerDir, ScalarType? dtype = null, Device? device = null)
    {
        var meta = torch.device("meta");
        var unet = new UNet2DConditionModel(unetConfig, dtype, meta);
        var vae = new AutoencoderKL(vaeConfig, dtype, meta);
        var text = new CLIPTextModel(textConfig, dtype, meta);
        try
        {
            ModuleWeights.Assign(unet, unetWeights, $"{source} (unet)", dtype, device);
            ModuleWeights.Assign(vae, vaeWeights, $"{source} (vae)", dtype, device);
            ModuleWeights.Assign(text, WithoutPositionIds(textWeights), $"{source} (text_encoder)", dtype, device);
        }
        catch
        {
            unet.Dispose();
            vae.Dispose();
            text.Dispose();
            throw;
        }
        foreach (var module in new nn.Module[] { unet, vae, text })
            module.eval();
        return new StableDiffusionModel(unet, vae, text, scheduler, tokenizerDir);
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
    }
}
