using NotebookTrainer.Models.Clip;
using NotebookTrainer.ModelConfigs;
using NotebookTrainer.Models.Layers;
using NotebookTrainer.Models.UNet;
using NotebookTrainer.Models.Vae;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.Tests.Models;

/// <summary>
/// Built on the meta device (no memory, no init cost): key names, shapes and parameter counts must be those of
/// the real diffusers checkpoints, so weights load without mapping tables.
/// </summary>
public class ArchitectureKeyTests
{
    static readonly Device Meta = device("meta");

    static Dictionary<string, long[]> Shapes(nn.Module module) =>
        module.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape);

    static long ParameterCount(nn.Module module) => module.parameters().Sum(p => p.numel());

    [Fact]
    public void StableDiffusion15UNetHasDiffusersKeysAndShapes()
    {
        using var unet = new UNet2DConditionModel(UNet2DConditionConfig.StableDiffusion15, device: Meta);
        var shapes = Shapes(unet);
        Assert.Equal(686, shapes.Count);
        Assert.Equal(859_520_964, ParameterCount(unet));
        Assert.Equal(new long[] { 320, 4, 3, 3 }, shapes["conv_in.weight"]);
        Assert.Equal(new long[] { 1280, 320 }, shapes["time_embedding.linear_1.weight"]);
        Assert.Equal(new long[] { 320, 320 }, shapes["down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.weight"]);
        Assert.Equal(new long[] { 320, 768 }, shapes["down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight"]);
        Assert.Equal(new long[] { 320, 320, 1, 1 }, shapes["down_blocks.0.attentions.0.proj_in.weight"]);
        Assert.Equal(new long[] { 2560, 320 }, shapes["down_blocks.0.attentions.0.transformer_blocks.0.ff.net.0.proj.weight"]);
        Assert.Equal(new long[] { 320, 1280 }, shapes["down_blocks.0.attentions.0.transformer_blocks.0.ff.net.2.weight"]);
        Assert.Equal(new long[] { 320, 320, 3, 3 }, shapes["down_blocks.0.downsamplers.0.conv.weight"]);
        Assert.Equal(new long[] { 640, 320, 1, 1 }, shapes["down_blocks.1.resnets.0.conv_shortcut.weight"]);
        Assert.Equal(new long[] { 1280, 1280 }, shapes["mid_block.attentions.0.transformer_blocks.0.attn1.to_out.0.weight"]);
        Assert.Equal(new long[] { 1280, 2560, 3, 3 }, shapes["up_blocks.0.resnets.0.conv1.weight"]);
        Assert.Equal(new long[] { 320, 960, 1, 1 }, shapes["up_blocks.3.resnets.0.conv_shortcut.weight"]);
        Assert.Equal(new long[] { 640, 640, 3, 3 }, shapes["up_blocks.2.upsamplers.0.conv.weight"]);
        Assert.Equal(new long[] { 320 }, shapes["conv_norm_out.weight"]);
        Assert.Equal(new long[] { 4, 320, 3, 3 }, shapes["conv_out.weight"]);
        Assert.DoesNotContain("down_blocks.3.downsamplers.0.conv.weight", shapes.Keys);
        Assert.DoesNotContain("up_blocks.3.upsamplers.0.conv.weight", shapes.Keys);
        Assert.DoesNotContain(shapes.Keys, k => k.Contains("to_q.bias"));
    }

    [Fact]
    public void StableDiffusion2V768UNetUsesLinearProjectionsAndPerBlockHeads()
    {
        using var unet = new UNet2DConditionModel(UNet2DConditionConfig.StableDiffusion2V768, device: Meta);
        var shapes = Shapes(unet);
        Assert.Equal(686, shapes.Count);
        Assert.Equal(865_910_724, ParameterCount(unet));
        Assert.Equal(new long[] { 320, 320 }, shapes["down_blocks.0.attentions.0.proj_in.weight"]);
        Assert.Equal(new long[] { 1280, 1280 }, shapes["mid_block.attentions.0.proj_out.weight"]);
        Assert.Equal(new long[] { 640, 1024 }, shapes["down_blocks.1.attentions.1.transformer_blocks.0.attn2.to_v.weight"]);
    }

    [Fact]
    public void StableDiffusionVaeHasDiffusersKeysAndShapes()
    {
        using var vae = new AutoencoderKL(AutoencoderKLConfig.StableDiffusion, device: Meta);
        var shapes = Shapes(vae);
        Assert.Equal(248, shapes.Count);
        Assert.Equal(83_653_863, ParameterCount(vae));
        Assert.Equal(new long[] { 512, 512 }, shapes["encoder.mid_block.attentions.0.to_q.weight"]);
        Assert.Equal(new long[] { 512 }, shapes["decoder.mid_block.attentions.0.group_norm.weight"]);
        Assert.Equal(new long[] { 512, 512 }, shapes["decoder.mid_block.attentions.0.to_out.0.weight"]);
        Assert.Equal(new long[] { 256, 128, 1, 1 }, shapes["encoder.down_blocks.1.resnets.0.conv_shortcut.weight"]);
        Assert.Equal(new long[] { 128, 128, 3, 3 }, shapes["encoder.down_blocks.0.downsamplers.0.conv.weight"]);
        Assert.Equal(new long[] { 8, 512, 3, 3 }, shapes["encoder.conv_out.weight"]);
        Assert.Equal(new long[] { 8, 8, 1, 1 }, shapes["quant_conv.weight"]);
        Assert.Equal(new long[] { 4, 4, 1, 1 }, shapes["post_quant_conv.weight"]);
        Assert.Equal(new long[] { 128, 256, 1, 1 }, shapes["decoder.up_blocks.3.resnets.0.conv_shortcut.weight"]);
        Assert.Equal(new long[] { 512, 512, 3, 3 }, shapes["decoder.up_blocks.0.upsamplers.0.conv.weight"]);
        Assert.Equal(new long[] { 3, 128, 3, 3 }, shapes["decoder.conv_out.weight"]);
    }

    [Fact]
    public void StableDiffusion1TextEncoderHasTransformersKeys()
    {
        using var text = new CLIPTextModel(CLIPTextConfig.StableDiffusion1, device: Meta);
        var shapes = Shapes(text);
        Assert.Equal(196, shapes.Count);
        Assert.Equal(123_060_480, ParameterCount(text));
        Assert.Equal(new long[] { 49408, 768 }, shapes["text_model.embeddings.token_embedding.weight"]);
        Assert.Equal(new long[] { 77, 768 }, shapes["text_model.embeddings.position_embedding.weight"]);
        Assert.Equal(new long[] { 768, 768 }, shapes["text_model.encoder.layers.0.self_attn.q_proj.weight"]);
        Assert.Equal(new long[] { 3072, 768 }, shapes["text_model.encoder.layers.11.mlp.fc1.weight"]);
        Assert.Equal(new long[] { 768 }, shapes["text_model.final_layer_norm.bias"]);
    }

    [Fact]
    public void StableDiffusion2TextEncoderHas23Layers()
    {
        using var text = new CLIPTextModel(CLIPTextConfig.StableDiffusion2, device: Meta);
        var shapes = Shapes(text);
        Assert.Equal(2 + 23 * 16 + 2, shapes.Count);
        Assert.Equal(new long[] { 4096, 1024 }, shapes["text_model.encoder.layers.22.mlp.fc1.weight"]);
    }

    [Fact]
    public void LoraTargetsCountAsKohyaExpects()
    {
        using var unet = new UNet2DConditionModel(UNet2DConditionConfig.StableDiffusion15, device: Meta);
        using var text = new CLIPTextModel(CLIPTextConfig.StableDiffusion1, device: Meta);
        var unetTargets = unet.named_modules()
            .Where(m => m.module is Transformer2DModel)
            .SelectMany(m => m.module.named_modules().Where(c => c.module is AdaptableLinear || c.module is AdaptableConv2d { KernelSize: 1 })
                .Select(c => "lora_unet_" + (m.name + "." + c.name).Replace('.', '_')))
            .ToList();
        Assert.Equal(192, unetTargets.Count);
        Assert.Contains("lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q", unetTargets);
        Assert.Contains("lora_unet_mid_block_attentions_0_proj_in", unetTargets);
        var textTargets = text.named_modules()
            .Where(m => m.module is CLIPAttention || m.module is CLIPMLP)
            .SelectMany(m => m.module.named_modules().Where(c => c.module is AdaptableLinear).Select(c => "lora_te_" + (m.name + "." + c.name).Replace('.', '_')))
            .ToList();
        Assert.Equal(72, textTargets.Count);
        Assert.Contains("lora_te_text_model_encoder_layers_11_mlp_fc2", textTargets);
        Assert.Contains("lora_te_text_model_encoder_layers_0_self_attn_q_proj", textTargets);
    }

    [Fact]
    public void ConfigsRoundTripThroughDiffusersJson()
    {
        var dir = Directory.CreateTempSubdirectory("ntrain-config").FullName;
        try
        {
            var unetFile = Path.Combine(dir, "unet.json");
            File.WriteAllText(unetFile, UNet2DConditionConfig.StableDiffusion2V768.ToJson());
            var unet = UNet2DConditionConfig.Load(unetFile);
            Assert.Equal(new[] { 5, 10, 20, 20 }, unet.AttentionHeads);
            Assert.True(unet.UseLinearProjection && unet.UpcastAttention);
            Assert.Equal(1024, unet.CrossAttentionDim);

            var vaeFile = Path.Combine(dir, "vae.json");
            File.WriteAllText(vaeFile, AutoencoderKLConfig.Tiny.ToJson());
            Assert.Equal(AutoencoderKLConfig.Tiny.BlockOutChannels, AutoencoderKLConfig.Load(vaeFile).BlockOutChannels);

            var textFile = Path.Combine(dir, "text.json");
            File.WriteAllText(textFile, CLIPTextConfig.StableDiffusion2.ToJson());
            Assert.Equal(CLIPTextConfig.StableDiffusion2, CLIPTextConfig.Load(textFile));

            File.WriteAllText(unetFile, """{"block_out_channels": [320, 640], "attention_head_dim": "eight"}""");
            var error = Assert.Throws<ModelConfigException>(() => UNet2DConditionConfig.Load(unetFile));
            Assert.Contains("unet.json", error.Message);
            Assert.Contains("down_block_types", error.Message);
            File.WriteAllText(unetFile, """{"attention_head_dim": "eight"}""");
            error = Assert.Throws<ModelConfigException>(() => UNet2DConditionConfig.Load(unetFile));
            Assert.Contains("attention_head_dim", error.Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
