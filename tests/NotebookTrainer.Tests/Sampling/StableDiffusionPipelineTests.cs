using NotebookTrainer.Datasets;
using NotebookTrainer.Models.Clip;
using NotebookTrainer.ModelConfigs;
using NotebookTrainer.Models.UNet;
using NotebookTrainer.Models.Vae;
using NotebookTrainer.Sampling;
using NotebookTrainer.Tests.SafeTensors;
using NotebookTrainer.Tokenizers;
using NotebookTrainer.World;
using SkiaSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.Tests.Sampling;

public class StableDiffusionPipelineTests
{
    [Fact]
    public void TinyModulesSampleReproducibleImagesThroughTheRealPath()
    {
        set_num_threads(1);
        manual_seed(21);
        using var dir = new TempDir();
        var tokenizer = ClipTokenizer.BuildTiny(NotebookTrainer.World.WorldAttributes.TokenizerTexts(SampleDataset.ActivationTag), 50, dir.Path);
        var textConfig = new CLIPTextConfig
        {
            VocabSize = tokenizer.VocabSize, HiddenSize = UNet2DConditionConfig.Tiny.CrossAttentionDim, IntermediateSize = 128,
            NumHiddenLayers = 2, NumAttentionHeads = 2, BosTokenId = tokenizer.BosId, EosTokenId = tokenizer.EosId,
        };
        using var unet = new UNet2DConditionModel(UNet2DConditionConfig.Tiny);
        using var textEncoder = new CLIPTextModel(textConfig);
        using var vae = new AutoencoderKL(AutoencoderKLConfig.Tiny);
        unet.eval(); textEncoder.eval(); vae.eval();
        var pipeline = StableDiffusionPipeline.Create(unet, textEncoder, vae, tokenizer, clipSkip: 2);
        Assert.Equal(2, pipeline.VaeScaleFactor);

        var generator = new SampleImageGenerator(pipeline);
        var prompt = new SamplePrompt("sks, (red circle:1.3), white background") { Width = 48, Height = 32, Steps = 3, NegativePrompt = "black background" };
        var set = generator.Run([prompt, prompt], new SampleRunOptions(dir.Path, "tiny", 1) { Seed = 5, Sampler = "dpmsolver++" });
        using var image = SKBitmap.Decode(set.Images[0].Path);
        Assert.Equal((48, 32), (image.Width, image.Height));
        Assert.Equal(generator.GeneratePng(prompt, 5, "dpmsolver++", 3), set.Images[0].Png);
        Assert.NotEqual(set.Images[0].Png, set.Images[1].Png);   // seeds 5 and 6
    }
}
