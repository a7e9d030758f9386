using NotebookTrainer.Models.Clip;
using NotebookTrainer.ModelConfigs;
using NotebookTrainer.Models.UNet;
using NotebookTrainer.Networks;
using static TorchSharp.torch;

namespace NotebookTrainer.Tests.Networks;

/// <summary>kohya's module set for the real SD 1.5 U-Net and CLIP text encoder, built on the meta device (no memory).</summary>
public class StableDiffusionLoraNamesTests
{
    static readonly Device Meta = device("meta");

    [Fact]
    public void Sd15LoraHasKohyas192UnetAnd72TextModules()
    {
        using var unet = new UNet2DConditionModel(UNet2DConditionConfig.StableDiffusion15, device: Meta);
        using var te = new CLIPTextModel(CLIPTextConfig.StableDiffusion1, device: Meta);
        using var network = LoraNetwork.Create(unet, te, new NetworkOptions { Dim = 4, Alpha = 1 }, Meta);
        Assert.Equal(192, network.UnetModules.Count);
        Assert.Equal(72, network.TextEncoderModules.Count);
        var sd = network.StateDict();
        Assert.Equal(new long[] { 4, 320 }, sd["lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q.lora_down.weight"].shape);
        Assert.Equal(new long[] { 4, 768 }, sd["lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k.lora_down.weight"].shape);
        Assert.Equal(new long[] { 320, 4 }, sd["lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_out_0.lora_up.weight"].shape);
        Assert.Equal(new long[] { 4, 1280, 1, 1 }, sd["lora_unet_mid_block_attentions_0_proj_in.lora_down.weight"].shape);
        Assert.Equal(new long[] { 2560, 4 }, sd["lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_ff_net_0_proj.lora_up.weight"].shape);
        Assert.Equal(new long[] { 4, 1280 }, sd["lora_unet_up_blocks_3_attentions_2_transformer_blocks_0_ff_net_2.lora_down.weight"].shape);
        Assert.Equal(new long[] { 4, 768 }, sd["lora_te_text_model_encoder_layers_0_self_attn_q_proj.lora_down.weight"].shape);
        Assert.Equal(new long[] { 4, 3072 }, sd["lora_te_text_model_encoder_layers_11_mlp_fc2.lora_down.weight"].shape);
        Assert.Empty(sd["lora_te_text_model_encoder_layers_11_mlp_fc2.alpha"].shape);
        Assert.Equal(192 * 3 + 72 * 3, sd.Count);
    }

    [Fact]
    public void Sd15LoConAddsKohyasConvSet()
    {
        using var unet = new UNet2DConditionModel(UNet2DConditionConfig.StableDiffusion15, device: Meta);
        using var network = LoraNetwork.Create(unet, null, NetworkOptions.FromKohya("networks.lora", 8, 4, ["conv_dim=4", "conv_alpha=1"]), Meta);
        // 22 ResnetBlock2D × (conv1, conv2, time_emb_proj) + 14 conv_shortcut + 3 downsamplers + 3 upsamplers = 86.
        Assert.Equal(192 + 86, network.UnetModules.Count);
        var sd = network.StateDict();
        Assert.Equal(new long[] { 4, 320, 3, 3 }, sd["lora_unet_down_blocks_0_resnets_0_conv1.lora_down.weight"].shape);
        Assert.Equal(new long[] { 320, 4, 1, 1 }, sd["lora_unet_down_blocks_0_resnets_0_conv1.lora_up.weight"].shape);
        Assert.Equal(new long[] { 8, 1280 }, sd["lora_unet_down_blocks_0_resnets_0_time_emb_proj.lora_down.weight"].shape);
        Assert.Equal(new long[] { 8, 320, 1, 1 }, sd["lora_unet_down_blocks_1_resnets_0_conv_shortcut.lora_down.weight"].shape);
        Assert.Equal(new long[] { 4, 320, 3, 3 }, sd["lora_unet_down_blocks_0_downsamplers_0_conv.lora_down.weight"].shape);
        Assert.Equal(new long[] { 4, 1280, 3, 3 }, sd["lora_unet_up_blocks_0_upsamplers_0_conv.lora_down.weight"].shape);
        Assert.Equal(new long[] { 4, 2560, 3, 3 }, sd["lora_unet_up_blocks_0_resnets_0_conv1.lora_down.weight"].shape);
    }
}
