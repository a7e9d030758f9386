using NotebookTrainer.ModelConfigs;
using NotebookTrainer.Models.UNet;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.Tests.Models;

/// <summary>The SDXL U-Net: diffusers' names and shapes at full size (meta device), and the added conditioning at toy size.</summary>
public class SdxlUNetTests
{
    static Dictionary<string, long[]> Shapes(nn.Module module) => module.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape);

    [Fact]
    public void The_SDXL_base_UNet_has_diffusers_keys_shapes_and_parameter_count()
    {
        using var unet = new UNet2DConditionModel(UNet2DConditionConfig.StableDiffusionXL, device: device("meta"));
        var shapes = Shapes(unet);
        Assert.Equal(2_567_463_684, unet.parameters().Sum(p => p.numel()));
        Assert.Equal(1680, shapes.Count);
        Assert.Equal(new long[] { 1280, 2816 }, shapes["add_embedding.linear_1.weight"]);
        Assert.Equal(new long[] { 1280, 1280 }, shapes["add_embedding.linear_2.weight"]);
        Assert.DoesNotContain(shapes.Keys, k => k.StartsWith("down_blocks.0.attentions.", StringComparison.Ordinal));
        Assert.DoesNotContain(shapes.Keys, k => k.StartsWith("up_blocks.2.attentions.", StringComparison.Ordinal));
        Assert.Equal(new long[] { 640, 640 }, shapes["down_blocks.1.attentions.1.proj_in.weight"]);
        Assert.Equal(new long[] { 640, 2048 }, shapes["down_blocks.1.attentions.1.transformer_blocks.1.attn2.to_k.weight"]);
        Assert.DoesNotContain("down_blocks.1.attentions.0.transformer_blocks.2.norm1.weight", shapes.Keys);
        Assert.Equal(new long[] { 1280, 1280 }, shapes["down_blocks.2.attentions.1.transformer_blocks.9.attn1.to_q.weight"]);
        Assert.Equal(new long[] { 10240, 1280 }, shapes["mid_block.attentions.0.transformer_blocks.9.ff.net.0.proj.weight"]);
        Assert.Equal(new long[] { 1280 }, shapes["up_blocks.0.attentions.2.transformer_blocks.9.norm3.bias"]);
        Assert.DoesNotContain("up_blocks.1.attentions.2.transformer_blocks.2.norm1.weight", shapes.Keys);
        Assert.Equal(new long[] { 320, 960, 1, 1 }, shapes["up_blocks.2.resnets.0.conv_shortcut.weight"]);
        Assert.DoesNotContain("down_blocks.2.downsamplers.0.conv.weight", shapes.Keys);
        Assert.DoesNotContain("up_blocks.2.upsamplers.0.conv.weight", shapes.Keys);
    }

    static (UNet2DConditionModel Unet, Tensor Sample, Tensor Text, Tensor Pooled, Tensor TimeIds) TinyXL()
    {
        manual_seed(7);
        var config = UNet2DConditionConfig.TinyXL;
        var unet = new UNet2DConditionModel(config);
        unet.eval();
        return (unet, randn(2, 4, 8, 8), randn(2, 77, config.CrossAttentionDim), randn(2, config.TextEmbedsDim),
            tensor(new float[,] { { 1024, 1024, 0, 0, 1024, 1024 }, { 832, 1216, 64, 32, 1024, 1024 } }));
    }

    [Fact]
    public void The_pooled_text_and_the_size_and_crop_numbers_condition_the_tiny_SDXL_UNet()
    {
        var (unet, sample, text, pooled, timeIds) = TinyXL();
        using var _ = no_grad();
        using (unet)
        {
            var t = tensor(new long[] { 999, 10 });
            var output = unet.forward(sample, t, text, pooled, timeIds);
            Assert.Equal(sample.shape, output.shape);
            var otherPooled = unet.forward(sample, t, text, pooled * 2, timeIds);
            var otherCrop = unet.forward(sample, t, text, pooled, timeIds + tensor(new float[] { 0, 0, 16, 0, 0, 0 }));
            Assert.True((output - otherPooled).abs().max().item<float>() > 1e-4);
            Assert.True((output - otherCrop).abs().max().item<float>() > 1e-4);

            var missing = Assert.Throws<ArgumentException>(() => unet.forward(sample, t, text));
            Assert.Contains("time_ids", missing.Message);
            Assert.Contains("text_embeds must be (2, 32)", Assert.Throws<ArgumentException>(() => unet.forward(sample, t, text, pooled[.., ..8], timeIds)).Message);
        }
        using var sd1 = new UNet2DConditionModel(UNet2DConditionConfig.Tiny);
        Assert.Contains("SDXL conditioning", Assert.Throws<ArgumentException>(() => sd1.forward(randn(1, 4, 8, 8), tensor(1L), randn(1, 77, 64), pooled[..1], timeIds[..1])).Message);
        Assert.Contains("SDXL conditioning", Assert.Throws<ArgumentException>(() => sd1.forward(randn(1, 4, 8, 8), tensor(1L), randn(1, 77, 64), timeIds: timeIds[..1])).Message);
    }

    [Fact]
    public void The_SDXL_config_keys_round_trip_and_bad_values_name_the_key()
    {
        var json = UNet2DConditionConfig.StableDiffusionXL.ToJson();
        var back = UNet2DConditionConfig.FromJson(json, "unet/config.json");
        Assert.Equal(("text_time", 256, 2816, 1280), (back.AdditionEmbedType, back.AdditionTimeEmbedDim, back.ProjectionClassEmbeddingsInputDim, back.TextEmbedsDim));
        Assert.Equal([1, 2, 10], back.TransformerLayersPerBlock!);
        Assert.Equal(["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"], back.DownBlockTypes);

        var text = json.Replace("\"text_time\"", "\"text\"", StringComparison.Ordinal);
        Assert.Contains("unet/config.json: key 'addition_embed_type': 'text' is not supported", Assert.Throws<ModelConfigException>(() => UNet2DConditionConfig.FromJson(text, "unet/config.json")).Message);
        var noTimeDim = json.Replace("\"addition_time_embed_dim\": 256", "\"addition_time_embed_dim\": null", StringComparison.Ordinal);
        Assert.Contains("key 'addition_time_embed_dim'", Assert.Throws<ModelConfigException>(() => UNet2DConditionConfig.FromJson(noTimeDim, "unet/config.json")).Message);
    }
}
