using NotebookTrainer.Models;
using NotebookTrainer.Models.Clip;
using NotebookTrainer.ModelConfigs;
using NotebookTrainer.Models.Layers;
using NotebookTrainer.Models.UNet;
using NotebookTrainer.Models.Vae;
using NotebookTrainer.Networks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NotebookTrainer.Tests.Models;

public class TinyModuleTests
{
    static readonly CLIPTextConfig TinyText = new() { VocabSize = 300, HiddenSize = 64, IntermediateSize = 128, NumHiddenLayers = 2, NumAttentionHeads = 2, BosTokenId = 298, EosTokenId = 299 };

    [Theory]
    [InlineData(16, 16)]
    [InlineData(13, 10)]
    public void UNetPredictsNoiseOfTheLatentShape(int height, int width)
    {
        manual_seed(1);
        using var unet = new UNet2DConditionModel(UNet2DConditionConfig.Tiny);
        using var latents = randn(2, 4, height, width);
        using var text = randn(2, 77, 64);
        using var t = tensor(new long[] { 10, 900 });
        using var noise = unet.forward(latents, t, text);
        Assert.Equal(new long[] { 2, 4, height, width }, noise.shape);
        Assert.True(noise.isfinite().all().item<bool>());
        using var otherT = tensor(new long[] { 500, 500 });
        using var changed = unet.forward(latents, otherT, text);
        Assert.False(changed.allclose(noise), "the timestep must change the prediction");
    }

    [Fact]
    public void VaeEncodesToHalfResolutionLatentsAndDecodesBack()
    {
        manual_seed(2);
        using var vae = new AutoencoderKL(AutoencoderKLConfig.Tiny);
        using var images = rand(1, 3, 32, 32) * 2 - 1;
        using var posterior = vae.encode(images);
        Assert.Equal(new long[] { 1, 4, 16, 16 }, posterior.Mean.shape);
        using var z1 = posterior.sample(new Generator(7));
        using var z2 = posterior.sample(new Generator(7));
        Assert.True(z1.allclose(z2, 0, 0), "sampling with the same generator seed is deterministic");
        Assert.False(z1.allclose(posterior.Mean));
        using var decoded = vae.decode(posterior.mode());
        Assert.Equal(new long[] { 1, 3, 32, 32 }, decoded.shape);
    }

    [Fact]
    public void TextEncoderIsCausalAndReturnsEveryHiddenState()
    {
        manual_seed(3);
        using var clip = new CLIPTextModel(TinyText);
        using var ids = randint(0, 298, [2, 77]);
        using var output = clip.forward(ids);
        Assert.Equal(3, output.HiddenStates.Count);
        Assert.Equal(new long[] { 2, 77, 64 }, output.LastHiddenState.shape);
        using var normed = clip.text_model.final_layer_norm.forward(output.HiddenStates[^1]);
        Assert.True(normed.allclose(output.LastHiddenState));

        using var changedIds = ids.clone();
        changedIds[.., 40] = tensor(5L);
        using var changed = clip.forward(changedIds);
        Assert.True(changed.LastHiddenState[.., ..40].allclose(output.LastHiddenState[.., ..40], atol: 1e-6), "tokens before 40 cannot see token 40");
        Assert.False(changed.LastHiddenState[.., 40..].allclose(output.LastHiddenState[.., 40..]));
    }

    [Fact]
    public void ClipSkipTakesAnEarlierLayerThroughTheFinalNorm()
    {
        manual_seed(4);
        using var clip = new CLIPTextModel(TinyText);
        using var ids = randint(0, 298, [1, 77]);
        using var full = clip.forward(ids);
        using var skip2 = TextEncoding.Encode(clip, ids, clipSkip: 2);
        using var expected = clip.text_model.final_layer_norm.forward(full.HiddenStates[^2]);
        Assert.True(skip2.allclose(expected, atol: 1e-6));
        using var skip1 = TextEncoding.Encode(clip, ids);
        Assert.True(skip1.allclose(full.LastHiddenState, atol: 1e-6));
    }

    [Fact]
    public void LongPromptsAreEncodedPerWindowAndJoined()
    {
        manual_seed(5);
        using var clip = new CLIPTextModel(TinyText);
        using var ids = randint(0, 298, [2, 3 * 77]);
        using var joined = TextEncoding.Encode(clip, ids);
        Assert.Equal(new long[] { 2, 3 * 75 + 2, 64 }, joined.shape);
        for (var w = 0; w < 3; w++)
        {
            using var window = clip.forward(ids[.., (w * 77)..((w + 1) * 77)].contiguous());
            using var expected = window.LastHiddenState[.., 1..76];
            using var actual = joined[.., (1 + 75 * w)..(1 + 75 * (w + 1))];
            Assert.True(actual.allclose(expected, atol: 1e-5), $"window {w}");
            if (w == 0) Assert.True(joined[.., 0].allclose(window.LastHiddenState[.., 0], atol: 1e-5));
            if (w == 2) Assert.True(joined[.., ^1].allclose(window.LastHiddenState[.., ^1], atol: 1e-5));
        }
    }

    sealed class ScaleAdapter : nn.Module, IWeightAdapter
    {
        public readonly Parameter scale = nn.Parameter(ones(1) * 1.5f);

        public ScaleAdapter() : base(nameof(ScaleAdapter)) => RegisterComponents();

        public Tensor Adapt(Tensor input, Tensor originalOutput) => originalOutput * scale;
    }

    static (Tensor Loss, Dictionary<string, Tensor> Grads) LossAndGrads(UNet2DConditionModel unet, IEnumerable<(string, Tensor)> trainable, bool checkpoint)
    {
        unet.EnableGradientCheckpointing(checkpoint);
        // A private generator: xunit runs test classes in parallel and the global one is shared.
        using var generator = new Generator(11);
        using var latents = randn([2, 4, 8, 8], generator: generator);
        using var text = randn([2, 77, 64], generator: generator);
        using var t = tensor(new long[] { 3, 700 });
        using var target = randn([2, 4, 8, 8], generator: generator);
        var list = trainable.ToList();
        foreach (var (_, p) in list) p.grad?.zero_();
        using var prediction = unet.forward(latents, t, text);
        var loss = nn.functional.mse_loss(prediction, target);
        loss.backward();
        return (loss, list.ToDictionary(p => p.Item1, p => p.Item2.grad!.clone()));
    }

    [Fact]
    public void GradientCheckpointingGivesTheSameGradients()
    {
        manual_seed(6);
        using var unet = new UNet2DConditionModel(UNet2DConditionConfig.Tiny);
        var parameters = unet.named_parameters().Select(p => (p.name, (Tensor)p.parameter)).ToList();
        var (plainLoss, plain) = LossAndGrads(unet, parameters, checkpoint: false);
        var (checkpointedLoss, checkpointed) = LossAndGrads(unet, parameters, checkpoint: true);
        Assert.Equal(plainLoss.item<float>(), checkpointedLoss.item<float>(), 6);
        Assert.Equal(plain.Count, checkpointed.Count);
        foreach (var (name, grad) in plain)
            Assert.True(grad.allclose(checkpointed[name], rtol: 1e-4, atol: 1e-6), $"gradient of {name} differs under checkpointing");
        Assert.Contains(plain.Values, g => g.abs().sum().item<float>() > 0);
    }

    [Fact]
    public void A_checkpointed_backward_leaves_no_tensor_alive_after_the_step()
    {
        manual_seed(6);
        using var unet = new UNet2DConditionModel(UNet2DConditionConfig.Tiny);
        unet.EnableGradientCheckpointing(true);
        using var latents = randn([2, 4, 8, 8]);
        using var text = randn([2, 77, 64]);
        using var t = tensor(new long[] { 3, 700 });
        void Step()
        {
            using var scope = NewDisposeScope();
            nn.functional.mse_loss(unet.forward(latents, t, text), zeros_like(latents)).backward();
        }
        Step();   // the first backward creates the parameters' .grad tensors
        var live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;

        Step();

        // The gradients the checkpoint hands to autograd would otherwise stay alive until the GC finalises them: one more
        // copy of every checkpointed block's gradients per step (the full-U-Net benchmark ran out of memory that way).
        Assert.Equal(live, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void CheckpointedFrozenModelStillTrainsItsAdapters()
    {
        manual_seed(7);
        using var unet = new UNet2DConditionModel(UNet2DConditionConfig.Tiny);
        foreach (var p in unet.parameters()) p.requires_grad = false;
        var adapters = new List<(string, Tensor)>();
        foreach (var (name, module) in unet.named_modules())
        {
            if (module is not AdaptableLinear { } linear || !name.Contains("attn2.to_k")) continue;
            var adapter = new ScaleAdapter();
            linear.Adapters.Add(adapter);
            adapters.Add((name, adapter.scale));
        }
        Assert.NotEmpty(adapters);
        var (_, plain) = LossAndGrads(unet, adapters, checkpoint: false);
        var (_, checkpointed) = LossAndGrads(unet, adapters, checkpoint: true);
        foreach (var (name, grad) in plain)
        {
            Assert.True(grad.abs().item<float>() > 0, $"{name} gets a gradient");
            Assert.True(grad.allclose(checkpointed[name], rtol: 1e-4, atol: 1e-7), $"adapter gradient of {name} differs under checkpointing");
        }
        Assert.True(unet.parameters().All(p => p.grad is null), "frozen weights get no gradient");
    }

    [Fact]
    public void CheckpointingMatchesThePlainPathForARealLoraNetwork()
    {
        manual_seed(9);
        using var unet = new UNet2DConditionModel(UNet2DConditionConfig.Tiny);
        foreach (var p in unet.parameters()) p.requires_grad = false;
        using var network = LoraNetwork.Create(unet, null, new NetworkOptions { Dim = 4, Alpha = 2, IncludeTextEncoder = false });
        network.Attach();
        using (no_grad())
            foreach (var p in network.Parameters().Where(p => p.dim() >= 2))
                p.normal_(0, 0.1);
        var parameters = network.Modules.SelectMany((m, i) => m.named_parameters().Select(p => ($"{i}.{p.name}", (Tensor)p.parameter))).ToList();
        Assert.NotEmpty(parameters);
        var (_, plain) = LossAndGrads(unet, parameters, checkpoint: false);
        var (_, checkpointed) = LossAndGrads(unet, parameters, checkpoint: true);
        foreach (var (name, grad) in plain)
            Assert.True(grad.allclose(checkpointed[name], rtol: 1e-4, atol: 1e-7), $"LoRA gradient of {name} differs under checkpointing");
        Assert.Contains(plain.Values, g => g.abs().sum().item<float>() > 0);
    }
}
