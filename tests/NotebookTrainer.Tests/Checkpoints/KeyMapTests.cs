using NotebookTrainer.Checkpoints;
using NotebookTrainer.ModelConfigs;

namespace NotebookTrainer.Tests.Checkpoints;

/// <summary>
/// The full-size name tables against the numbers and names of the public SD1.5 / SD2.1 releases
/// (the spec's 686 / 248 / 197 keys and diffusers' own conversion tables).
/// </summary>
public class KeyMapTests
{
    static long Parameters(IEnumerable<KeyMapping> mappings) => mappings.Sum(m => m.Shape.Aggregate(1L, (a, b) => a * b));

    [Fact]
    public void SD15_key_and_parameter_counts_match_the_release()
    {
        var configs = DiffusersConfigs.Defaults(ModelArchitecture.StableDiffusion1);
        var all = SingleFileLayout.Mappings(ModelArchitecture.StableDiffusion1, configs);
        var unet = all.Where(m => m.Component == "unet").ToList();
        var vae = all.Where(m => m.Component == "vae").ToList();
        var text = all.Where(m => m.Component == "text_encoder").ToList();
        Assert.Equal(686, unet.Count);
        Assert.Equal(248, vae.Count);
        Assert.Equal(196, text.Count); // + position_ids, carried through = 197 in the file
        Assert.Equal(859_520_964, Parameters(unet));
        Assert.Equal(83_653_863, Parameters(vae));
        Assert.Equal(123_060_480, Parameters(text));
        Assert.Equal(all.Count, all.Select(m => m.LdmName).Distinct().Count());
        Assert.Equal(all.Count, all.Select(m => m.Component + "/" + m.DiffusersName).Distinct().Count());
    }

    [Theory]
    [InlineData("model.diffusion_model.time_embed.0.weight", "time_embedding.linear_1.weight", "1280,320")]
    [InlineData("model.diffusion_model.input_blocks.0.0.weight", "conv_in.weight", "320,4,3,3")]
    [InlineData("model.diffusion_model.input_blocks.3.0.op.weight", "down_blocks.0.downsamplers.0.conv.weight", "320,320,3,3")]
    [InlineData("model.diffusion_model.input_blocks.4.0.skip_connection.weight", "down_blocks.1.resnets.0.conv_shortcut.weight", "640,320,1,1")]
    [InlineData("model.diffusion_model.input_blocks.1.1.proj_in.weight", "down_blocks.0.attentions.0.proj_in.weight", "320,320,1,1")]
    [InlineData("model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight", "down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight", "320,768")]
    [InlineData("model.diffusion_model.input_blocks.8.1.transformer_blocks.0.ff.net.0.proj.weight", "down_blocks.2.attentions.1.transformer_blocks.0.ff.net.0.proj.weight", "10240,1280")]
    [InlineData("model.diffusion_model.middle_block.1.proj_out.weight", "mid_block.attentions.0.proj_out.weight", "1280,1280,1,1")]
    [InlineData("model.diffusion_model.middle_block.2.emb_layers.1.weight", "mid_block.resnets.1.time_emb_proj.weight", "1280,1280")]
    [InlineData("model.diffusion_model.output_blocks.2.1.conv.weight", "up_blocks.0.upsamplers.0.conv.weight", "1280,1280,3,3")]
    [InlineData("model.diffusion_model.output_blocks.5.2.conv.weight", "up_blocks.1.upsamplers.0.conv.weight", "1280,1280,3,3")]
    [InlineData("model.diffusion_model.output_blocks.8.0.skip_connection.weight", "up_blocks.2.resnets.2.conv_shortcut.weight", "640,960,1,1")]
    [InlineData("model.diffusion_model.output_blocks.9.0.in_layers.0.weight", "up_blocks.3.resnets.0.norm1.weight", "960")]
    [InlineData("model.diffusion_model.output_blocks.11.1.transformer_blocks.0.norm3.bias", "up_blocks.3.attentions.2.transformer_blocks.0.norm3.bias", "320")]
    [InlineData("model.diffusion_model.out.2.weight", "conv_out.weight", "4,320,3,3")]
    [InlineData("first_stage_model.encoder.down.1.block.0.nin_shortcut.weight", "encoder.down_blocks.1.resnets.0.conv_shortcut.weight", "256,128,1,1")]
    [InlineData("first_stage_model.encoder.mid.attn_1.norm.weight", "encoder.mid_block.attentions.0.group_norm.weight", "512")]
    [InlineData("first_stage_model.decoder.up.3.block.0.conv1.weight", "decoder.up_blocks.0.resnets.0.conv1.weight", "512,512,3,3")]
    [InlineData("first_stage_model.decoder.up.0.block.0.nin_shortcut.weight", "decoder.up_blocks.3.resnets.0.conv_shortcut.weight", "128,256,1,1")]
    [InlineData("first_stage_model.decoder.up.1.upsample.conv.weight", "decoder.up_blocks.2.upsamplers.0.conv.weight", "256,256,3,3")]
    [InlineData("first_stage_model.decoder.norm_out.weight", "decoder.conv_norm_out.weight", "128")]
    [InlineData("first_stage_model.quant_conv.weight", "quant_conv.weight", "8,8,1,1")]
    [InlineData("cond_stage_model.transformer.text_model.encoder.layers.11.mlp.fc2.weight", "text_model.encoder.layers.11.mlp.fc2.weight", "768,3072")]
    [InlineData("cond_stage_model.transformer.text_model.embeddings.token_embedding.weight", "text_model.embeddings.token_embedding.weight", "49408,768")]
    public void SD15_names_and_shapes(string ldm, string diffusers, string ldmShape)
    {
        var mapping = Assert.Single(SingleFileLayout.Mappings(ModelArchitecture.StableDiffusion1, DiffusersConfigs.Defaults(ModelArchitecture.StableDiffusion1)), m => m.LdmName == ldm);
        Assert.Equal(diffusers, mapping.DiffusersName);
        Assert.Equal(ldmShape, string.Join(",", mapping.LdmShape));
    }

    [Fact]
    public void VAE_mid_attention_is_a_1x1_conv_in_the_file_and_linear_in_diffusers()
    {
        var q = Assert.Single(VaeKeyMap.Build(DiffusersConfigs.Defaults(ModelArchitecture.StableDiffusion1).VaeConfig), m => m.LdmName == "first_stage_model.decoder.mid.attn_1.proj_out.weight");
        Assert.Equal("decoder.mid_block.attentions.0.to_out.0.weight", q.DiffusersName);
        Assert.Equal(KeyTransform.ConvToLinear, q.Transform);
        Assert.Equal(new long[] { 512, 512 }, q.Shape);
        Assert.Equal(new long[] { 512, 512, 1, 1 }, q.LdmShape);
    }

    [Fact]
    public void SD21_layout_uses_linear_projections_and_openclip_names()
    {
        var configs = DiffusersConfigs.Defaults(ModelArchitecture.StableDiffusion2);
        var all = SingleFileLayout.Mappings(ModelArchitecture.StableDiffusion2, configs);
        Assert.Equal(686, all.Count(m => m.Component == "unet"));
        Assert.Equal(865_910_724, Parameters(all.Where(m => m.Component == "unet")));
        var projIn = Assert.Single(all, m => m.LdmName == "model.diffusion_model.input_blocks.1.1.proj_in.weight");
        Assert.Equal(new long[] { 320, 320 }, projIn.LdmShape);
        var toK = Assert.Single(all, m => m.DiffusersName == "mid_block.attentions.0.transformer_blocks.0.attn2.to_k.weight");
        Assert.Equal(new long[] { 1280, 1024 }, toK.Shape);

        var text = all.Where(m => m.Component == "text_encoder").ToList();
        Assert.Equal(23 * 16 + 4, text.Count);
        var k = Assert.Single(text, m => m.DiffusersName == "text_model.encoder.layers.22.self_attn.k_proj.weight");
        Assert.Equal(("cond_stage_model.model.transformer.resblocks.22.attn.in_proj_weight", KeyTransform.QkvSplit, 1), (k.LdmName, k.Transform, k.Part));
        Assert.Equal(new long[] { 3072, 1024 }, k.LdmShape);
        Assert.Contains(text, m => m.LdmName == "cond_stage_model.model.positional_embedding" && m.DiffusersName == "text_model.embeddings.position_embedding.weight");
        Assert.Contains(text, m => m.LdmName == "cond_stage_model.model.transformer.resblocks.0.mlp.c_fc.weight" && m.DiffusersName == "text_model.encoder.layers.0.mlp.fc1.weight");
        Assert.Contains(text, m => m.LdmName == "cond_stage_model.model.ln_final.bias" && m.DiffusersName == "text_model.final_layer_norm.bias");
        Assert.DoesNotContain(text, m => m.LdmName.Contains("resblocks.23"));
        Assert.Equal(340_387_840, Parameters(text));
    }

    [Fact]
    public void The_key_maps_read_the_typed_model_config_and_its_transformer_depth_per_block()
    {
        // diffusers: down block i has transformer_layers_per_block[i] blocks, the mid block the last entry, up block i
        // the reversed list's entry (SDXL writes [1, 2, 10]).
        var unet = UNet2DConditionConfig.Tiny with { TransformerLayersPerBlock = [1, 2] };
        var names = UNetKeyMap.Build(unet).Select(m => m.DiffusersName).ToList();
        bool Deep(string prefix) => names.Any(n => n.StartsWith(prefix, StringComparison.Ordinal) && n.Contains(".transformer_blocks.1."));
        Assert.False(Deep("down_blocks.0."));
        Assert.True(Deep("mid_block."));
        Assert.False(Deep("up_blocks.1."));
        Assert.Equal(UNetKeyMap.Build(UNet2DConditionConfig.Tiny).Count, UNetKeyMap.Build(UNet2DConditionConfig.Tiny with { TransformerLayersPerBlock = [1, 1] }).Count);

        // The same config.json text read as a folder's file and as DiffusersConfigs' parsed object gives the same record.
        var json = (unet with { }).ToJson();
        var fromObject = UNet2DConditionConfig.FromJson(System.Text.Json.Nodes.JsonNode.Parse(json)!.AsObject(), "unet/config.json");
        Assert.Equal([1, 2], fromObject.TransformerLayersPerBlock!);
        Assert.Equal(names, UNetKeyMap.Build(fromObject).Select(m => m.DiffusersName));
        var bad = System.Text.Json.Nodes.JsonNode.Parse(json)!.AsObject();
        bad["layers_per_block"] = "two";
        Assert.Contains("unet/config.json: key 'layers_per_block' must be an integer", Assert.Throws<ModelConfigException>(() => UNet2DConditionConfig.FromJson(bad, "unet/config.json")).Message);
    }
}
