using NotebookTrainer.Models.Clip;
using NotebookTrainer.Models.UNet;
using NotebookTrainer.Models.Vae;

namespace NotebookTrainer.Training;

/// <summary>
/// The frozen base model a LoRA trains on. <see cref="Tokenize"/> turns a caption into kohya token windows
/// (each 77 ids: BOS + 75 + EOS/padding; one window, or max_token_length/75 of them). <see cref="TokenizerDir"/>
/// is where the tokenizer files are, for sampling during training. <see cref="VaeName"/> / <see cref="VaeHash"/> name a
/// separate VAE file (the config's vae) that replaced the base model's. <see cref="TokenizeWeighted"/> reads
/// A1111 attention weights in a caption, for weighted_captions. <see cref="BasePath"/> is the checkpoint file or diffusers
/// folder the models came from (full-model targets write their checkpoint in its layout). An SDXL base adds
/// <see cref="TextEncoder2"/> and <see cref="Tokenize2"/>, its tokenizer (the same vocabulary, padded with id 0, as
/// sd-scripts pads tokenizer 2).
/// </summary>
public sealed record TrainingModels(
    UNet2DConditionModel Unet,
    CLIPTextModel TextEncoder,
    AutoencoderKL Vae,
    Func<string, int[][]> Tokenize,
    string ModelName,
    string? ModelHash = null,
    bool VPrediction = false,
    string? TokenizerDir = null,
    string? VaeName = null,
    string? VaeHash = null,
    Func<string, (int[][] Ids, float[][] Weights)>? TokenizeWeighted = null,
    string? BasePath = null,
    CLIPTextModelWithProjection? TextEncoder2 = null,
    Func<string, int[][]>? Tokenize2 = null) : IDisposable
{
    public bool IsSdxl => TextEncoder2 is not null;

    public void Dispose()
    {
        Unet.Dispose();
        TextEncoder.Dispose();
        TextEncoder2?.Dispose();
        Vae.Dispose();
    }
}
