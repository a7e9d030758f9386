using NotebookTrainer.Models;
using NotebookTrainer.Sampling;
using NotebookTrainer.Tokenizers;
using NotebookTrainer.World;
using static TorchSharp.torch;

namespace NotebookTrainer.Tests.Sampling;

/// <summary>Sampling an SDXL model (the tiny SDXL-architecture one) with sd-scripts' SDXL conditioning.</summary>
[Collection(TorchRandom.Collection)]
public sealed class SdxlSamplingTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("ntrain-sdxl-sample-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void The_pipeline_conditions_on_both_encoders_the_pooled_vector_and_the_image_size()
    {
        var path = TinyStableDiffusion.Write(Path.Combine(dir, "base"), configs: TinyStableDiffusion.TestXL);
        using var model = StableDiffusion.Load(path);
        var pipeline = StableDiffusionPipeline.Create(model, path);
        using var _ = no_grad();

        // Tokenizer 2's ids are tokenizer 1's with 0 after the first EOS, as sd-scripts pads tokenizer 2.
        var tokenizer = ClipTokenizer.Load(model.TokenizerDir!);
        var ids = tensor(tokenizer.EncodePadded("sks, purple heart").Select(i => (long)i).ToArray()).unsqueeze(0);
        var ids2 = tensor(tokenizer.WithPadId(0).EncodePadded("sks, purple heart").Select(i => (long)i).ToArray()).unsqueeze(0);
        Assert.False(ids.equal(ids2).all().item<bool>());
        var (expectedStates, expectedPooled) = TextEncoding.EncodeSdxl(model.TextEncoder, model.TextEncoder2!, ids, ids2);
        var (conditioning, unconditioning) = pipeline.Prompts.EmbedPair("sks, purple heart", "blurry");
        Assert.True(conditioning.States.allclose(expectedStates, 1e-5, 1e-6));
        Assert.True(conditioning.Pooled!.allclose(expectedPooled, 1e-5, 1e-6));
        Assert.False(unconditioning.Pooled!.allclose(expectedPooled, 1e-3, 1e-4));

        // time_ids = (height, width, 0, 0, height, width) of the image the latents decode to.
        manual_seed(2);
        var latents = randn(1, 4, 48, 32);
        var timestep = tensor(500L);
        using var viaPipeline = pipeline.Unet(latents, timestep, conditioning);
        using var direct = model.Unet.forward(latents, timestep, conditioning.States, conditioning.Pooled, tensor(new float[] { 96, 64, 0, 0, 96, 64 }).unsqueeze(0));
        Assert.True(viaPipeline.allclose(direct, 1e-5, 1e-6));
        using var otherSize = model.Unet.forward(latents, timestep, conditioning.States, conditioning.Pooled, tensor(new float[] { 1024, 1024, 0, 0, 96, 64 }).unsqueeze(0));
        Assert.False(viaPipeline.allclose(otherSize, 1e-4, 1e-5));
    }

    [Fact]
    public void SDXL_samples_follow_the_negative_prompt_only_with_guidance()
    {
        var path = TinyStableDiffusion.Write(Path.Combine(dir, "base"), configs: TinyStableDiffusion.TestXL);
        using var model = StableDiffusion.Load(path);
        var generator = new SampleImageGenerator(StableDiffusionPipeline.Create(model, path));
        Tensor Sample(string negative, double cfg) =>
            generator.Generate(new SamplePrompt("sks, purple heart") { NegativePrompt = negative, Width = 64, Height = 64, CfgScale = cfg }, seed: 5, "euler", steps: 3);

        using var plain = Sample("", 7);
        Assert.Equal([1, 3, 64, 64], plain.shape);
        Assert.True(plain.isfinite().all().item<bool>());
        using var negative = Sample("blurry, green square", 7);
        Assert.False(plain.allclose(negative, 1e-3, 1e-3));
        using var unguided = Sample("", 1);
        using var unguidedNegative = Sample("blurry, green square", 1);
        Assert.True(unguided.allclose(unguidedNegative));
    }
}
