using NotebookTrainer.Models;
using NotebookTrainer.ModelConfigs;
using NotebookTrainer.Models.UNet;
using NotebookTrainer.Models.Vae;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.Tests.Models;

public class ModuleWeightsTests
{
    [Theory]
    [InlineData(ScalarType.BFloat16)]
    [InlineData(ScalarType.Float16)]
    public void MetaModelTakesWeightsInHalfPrecisionWithoutCopies(ScalarType dtype)
    {
        manual_seed(8);
        using var reference = new UNet2DConditionModel(UNet2DConditionConfig.Tiny);
        var halfWeights = reference.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.to(dtype));
        using var unet = new UNet2DConditionModel(UNet2DConditionConfig.Tiny, device: device("meta"));
        ModuleWeights.Assign(unet, halfWeights, "unet");
        foreach (var (name, p) in unet.named_parameters())
        {
            Assert.Equal(dtype, p.dtype);
            Assert.Equal(DeviceType.CPU, p.device_type);
            Assert.False(p.requires_grad, name);
            Assert.True(p.allclose(halfWeights[name], 0, 0), name);
        }
        // Shares storage with the loaded tensor: nothing was copied.
        var key = "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.weight";
        using (no_grad()) halfWeights[key].add_(1);
        Assert.True(unet.state_dict()[key].allclose(halfWeights[key], 0, 0));

        using var latents = randn(1, 4, 8, 8);
        using var text = randn(1, 77, 64);
        using var t = tensor(new long[] { 500 });
        using (no_grad()) halfWeights[key].sub_(1);
        using var expected = reference.forward(latents, t, text);
        using var actual = unet.forward(latents.to(dtype), t, text.to(dtype)).to(ScalarType.Float32);
        var scale = expected.abs().max().item<float>();
        var error = (actual - expected).abs().max().item<float>();
        Assert.True(error < 0.05 * scale, $"half-precision forward error {error} vs scale {scale}");
    }

    [Fact]
    public void WeightsThatDoNotFitAreReportedByName()
    {
        using var reference = new AutoencoderKL(AutoencoderKLConfig.Tiny);
        var weights = reference.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value);
        weights.Remove("decoder.conv_out.bias");
        weights["decoder.extra.weight"] = zeros(1);
        weights["quant_conv.weight"] = zeros(8, 8, 3, 3);
        using var vae = new AutoencoderKL(AutoencoderKLConfig.Tiny, device: device("meta"));
        var error = Assert.Throws<ModelWeightsException>(() => ModuleWeights.Assign(vae, weights, "tiny.safetensors (vae)"));
        Assert.Contains("tiny.safetensors (vae)", error.Message);
        Assert.Contains("missing decoder.conv_out.bias", error.Message);
        Assert.Contains("unexpected decoder.extra.weight", error.Message);
        Assert.Contains("quant_conv.weight is [8, 8, 3, 3], expected [8, 8, 1, 1]", error.Message);
    }
}
