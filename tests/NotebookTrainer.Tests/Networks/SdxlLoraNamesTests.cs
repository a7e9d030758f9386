using System.Text.RegularExpressions;
using NotebookTrainer.Checkpoints;
using NotebookTrainer.Models.Clip;
using NotebookTrainer.Models.Layers;
using NotebookTrainer.Models.UNet;
using NotebookTrainer.Networks;
using static TorchSharp.torch;

namespace NotebookTrainer.Tests.Networks;

/// <summary>
/// kohya's SDXL module set on the real SDXL base configs, built on the meta device (no memory). The expected names are
/// written out here from sd-scripts' own SDXL U-Net (<c>library/sdxl_original_unet.py</c>: which LDM block holds which
/// ResnetBlock2D / Transformer2DModel / Downsample2D / Upsample2D, each transformer's depth) and <c>networks/lora.py</c>
/// (target classes, <c>lora_te1</c>/<c>lora_te2</c>), not from our key maps.
/// </summary>
public class SdxlLoraNamesTests
{
    static readonly Device Meta = device("meta");

    /// <summary>sdxl_original_unet: every Transformer2DModel by LDM path, with its num_transformer_layers.</summary>
    static readonly (string Path, int Depth)[] Transformers =
    [
        ("input_blocks_4_1", 2), ("input_blocks_5_1", 2), ("input_blocks_7_1", 10), ("input_blocks_8_1", 10),
        ("middle_block_1", 10),
        ("output_blocks_0_1", 10), ("output_blocks_1_1", 10), ("output_blocks_2_1", 10),
        ("output_blocks_3_1", 2), ("output_blocks_4_1", 2), ("output_blocks_5_1", 2),
    ];

    /// <summary>sdxl_original_unet: every ResnetBlock2D by LDM path with its in/out channels (skip_connection when they differ).</summary>
    static readonly (string Path, int In, int Out)[] Resnets =
    [
        ("input_blocks_1_0", 320, 320), ("input_blocks_2_0", 320, 320), ("input_blocks_4_0", 320, 640), ("input_blocks_5_0", 640, 640),
        ("input_blocks_7_0", 640, 1280), ("input_blocks_8_0", 1280, 1280),
        ("middle_block_0", 1280, 1280), ("middle_block_2", 1280, 1280),
        ("output_blocks_0_0", 2560, 1280), ("output_blocks_1_0", 2560, 1280), ("output_blocks_2_0", 1920, 1280),
        ("output_blocks_3_0", 1920, 640), ("output_blocks_4_0", 1280, 640), ("output_blocks_5_0", 960, 640),
        ("output_blocks_6_0", 960, 320), ("output_blocks_7_0", 640, 320), ("output_blocks_8_0", 640, 320),
    ];

    /// <summary>Downsample2D (op) and Upsample2D (conv) convs.</summary>
    static readonly string[] Samplers = ["input_blocks_3_0_op", "input_blocks_6_0_op", "output_blocks_2_2_conv", "output_blocks_5_2_conv"];

    static IEnumerable<string> ExpectedUnetLinear() => Transformers.SelectMany(t =>
        new[] { "proj_in", "proj_out" }.Concat(Enumerable.Range(0, t.Depth).SelectMany(b =>
            new[] { "attn1", "attn2" }.SelectMany(a => new[] { "to_q", "to_k", "to_v", "to_out_0" }.Select(p => $"transformer_blocks_{b}_{a}_{p}"))
                .Concat([$"transformer_blocks_{b}_ff_net_0_proj", $"transformer_blocks_{b}_ff_net_2"])))
        .Select(n => $"lora_unet_{t.Path}_{n}"));

    static IEnumerable<string> ExpectedUnetConv() =>
        Resnets.SelectMany(r => new[] { "in_layers_2", "out_layers_3", "emb_layers_1" }.Concat(r.In != r.Out ? ["skip_connection"] : Array.Empty<string>())
            .Select(n => $"lora_unet_{r.Path}_{n}"))
        .Concat(Samplers.Select(s => "lora_unet_" + s));

    static IEnumerable<string> ExpectedTextEncoder(string prefix, int layers) => Enumerable.Range(0, layers).SelectMany(i =>
        new[] { "self_attn_q_proj", "self_attn_k_proj", "self_attn_v_proj", "self_attn_out_proj", "mlp_fc1", "mlp_fc2" }
            .Select(p => $"{prefix}_text_model_encoder_layers_{i}_{p}"));

    /// <summary>The modules of the built-in SDXL base 1.0 configs (stabilityai/stable-diffusion-xl-base-1.0's config.json files).</summary>
    static (UNet2DConditionModel Unet, CLIPTextModel Te1, CLIPTextModelWithProjection Te2) SdxlBase()
    {
        var configs = DiffusersConfigs.Defaults(ModelArchitecture.StableDiffusionXL);
        return (new UNet2DConditionModel(configs.UnetConfig, device: Meta),
            new CLIPTextModel(configs.TextEncoderConfig, device: Meta),
            new CLIPTextModelWithProjection(configs.TextEncoder2Config!, device: Meta));
    }

    [Fact]
    public void SDXL_LoRA_has_kohyas_722_UNet_and_72_plus_192_text_encoder_modules()
    {
        var (unet, te1, te2) = SdxlBase();
        using (unet) using (te1) using (te2)
        {
            using var network = LoraNetwork.Create(unet, te1, new NetworkOptions { Dim = 4, Alpha = 1 }, Meta, te2);
            var unetNames = network.UnetModules.Select(m => m.Name).ToList();
            Assert.Equal(722, unetNames.Count);
            Assert.Equal(ExpectedUnetLinear().Order(StringComparer.Ordinal), unetNames.Order(StringComparer.Ordinal));
            var teNames = network.TextEncoderModules.Select(m => m.Name).ToList();
            Assert.Equal(72 + 192, teNames.Count);
            Assert.Equal(ExpectedTextEncoder("lora_te1", 12).Concat(ExpectedTextEncoder("lora_te2", 32)).Order(StringComparer.Ordinal), teNames.Order(StringComparer.Ordinal));

            var sd = network.StateDict();
            Assert.Equal((722 + 264) * 3, sd.Count);
            Assert.Equal(new long[] { 4, 640 }, sd["lora_unet_input_blocks_4_1_transformer_blocks_0_attn1_to_q.lora_down.weight"].shape);
            Assert.Equal(new long[] { 4, 2048 }, sd["lora_unet_middle_block_1_transformer_blocks_9_attn2_to_k.lora_down.weight"].shape);
            Assert.Equal(new long[] { 4, 1280 }, sd["lora_unet_output_blocks_0_1_proj_in.lora_down.weight"].shape);
            Assert.Equal(new long[] { 10240, 4 }, sd["lora_unet_output_blocks_2_1_transformer_blocks_9_ff_net_0_proj.lora_up.weight"].shape);
            Assert.Equal(new long[] { 4, 2560 }, sd["lora_unet_output_blocks_5_1_transformer_blocks_1_ff_net_2.lora_down.weight"].shape);
            Assert.Equal(new long[] { 4, 768 }, sd["lora_te1_text_model_encoder_layers_11_self_attn_v_proj.lora_down.weight"].shape);
            Assert.Equal(new long[] { 4, 5120 }, sd["lora_te2_text_model_encoder_layers_31_mlp_fc2.lora_down.weight"].shape);
            Assert.Empty(sd["lora_te2_text_model_encoder_layers_31_mlp_fc2.alpha"].shape);
        }
    }

    [Fact]
    public void SDXL_LoCon_adds_kohyas_66_conv_block_modules_and_LoHa_names_the_same_layers()
    {
        var (unet, te1, te2) = SdxlBase();
        using (unet) using (te1) using (te2)
        {
            using var locon = LoraNetwork.Create(unet, null, NetworkOptions.FromKohya("networks.lora", 8, 4, ["conv_dim=4", "conv_alpha=1"]), Meta);
            // 17 ResnetBlock2D × (in_layers.2, out_layers.3, emb_layers.1) + 11 skip_connection + 2 op + 2 conv = 66.
            Assert.Equal(722 + 66, locon.UnetModules.Count);
            Assert.Equal(ExpectedUnetLinear().Concat(ExpectedUnetConv()).Order(StringComparer.Ordinal), locon.UnetModules.Select(m => m.Name).Order(StringComparer.Ordinal));
            var sd = locon.StateDict();
            Assert.Equal(new long[] { 4, 1920, 3, 3 }, sd["lora_unet_output_blocks_2_0_in_layers_2.lora_down.weight"].shape);
            Assert.Equal(new long[] { 1280, 4, 1, 1 }, sd["lora_unet_output_blocks_2_0_in_layers_2.lora_up.weight"].shape);
            Assert.Equal(new long[] { 8, 1280 }, sd["lora_unet_input_blocks_1_0_emb_layers_1.lora_down.weight"].shape);
            Assert.Equal(new long[] { 8, 960, 1, 1 }, sd["lora_unet_output_blocks_6_0_skip_connection.lora_down.weight"].shape);
            Assert.Equal(new long[] { 4, 320, 3, 3 }, sd["lora_unet_input_blocks_3_0_op.lora_down.weight"].shape);
            Assert.Equal(new long[] { 4, 640, 3, 3 }, sd["lora_unet_output_blocks_5_2_conv.lora_down.weight"].shape);

            using var loha = LoraNetwork.Create(unet, te1, NetworkOptions.FromKohya("lycoris.kohya", 4, 1, ["algo=loha", "conv_dim=2", "conv_alpha=1"]), Meta, te2);
            Assert.Equal(locon.UnetModules.Select(m => m.Name).Order(StringComparer.Ordinal), loha.UnetModules.Select(m => m.Name).Order(StringComparer.Ordinal));
            Assert.Equal(264, loha.TextEncoderModules.Count);
            Assert.Equal(new long[] { 2, 320 * 9 }, loha.StateDict()["lora_unet_input_blocks_3_0_op.hada_w1_b"].shape);
        }
    }

    [Fact]
    public void Every_SDXL_name_is_one_ComfyUI_A1111_and_diffusers_map_onto_a_layer()
    {
        var (unet, te1, te2) = SdxlBase();
        using (unet) using (te1) using (te2)
        {
            using var network = LoraNetwork.Create(unet, te1, NetworkOptions.FromKohya("networks.lora", 4, 1, ["conv_dim=4"]), Meta, te2);
            var configs = DiffusersConfigs.Defaults(ModelArchitecture.StableDiffusionXL);
            var sgmKeys = SingleFileLayout.Mappings(ModelArchitecture.StableDiffusionXL, configs).Select(m => m.LdmName).ToHashSet(StringComparer.Ordinal);
            var flatSgmKeys = sgmKeys.Select(k => k.Replace('.', '_')).ToHashSet(StringComparer.Ordinal);
            var diffusersLayers = unet.named_modules().Where(m => m.module is AdaptableLinear or AdaptableConv2d).Select(m => m.name).ToHashSet(StringComparer.Ordinal);

            // ComfyUI model_lora_keys_unet: "lora_unet_" + each "diffusion_model.….weight" key without the suffix, "." → "_".
            var comfyUnet = sgmKeys.Where(k => k.StartsWith("model.diffusion_model.", StringComparison.Ordinal) && k.EndsWith(".weight", StringComparison.Ordinal))
                .Select(k => "lora_unet_" + k["model.diffusion_model.".Length..^".weight".Length].Replace('.', '_')).ToHashSet(StringComparer.Ordinal);
            // ComfyUI model_lora_keys_clip for SDXL: lora_te1_/lora_te2_ + text_model_encoder_layers_{b}_ + LORA_CLIP_MAP's six names.
            string[] clipMap = ["mlp_fc1", "mlp_fc2", "self_attn_k_proj", "self_attn_q_proj", "self_attn_v_proj", "self_attn_out_proj"];
            var comfyClip = new[] { ("lora_te1", 12), ("lora_te2", 32) }
                .SelectMany(t => Enumerable.Range(0, t.Item2).SelectMany(b => clipMap.Select(c => $"{t.Item1}_text_model_encoder_layers_{b}_{c}"))).ToHashSet(StringComparer.Ordinal);

            foreach (var module in network.UnetModules)
            {
                Assert.Contains(module.Name, comfyUnet);
                // A1111: "lora_unet" → "diffusion_model" must name a module of the sgm model (its weight key exists).
                Assert.Contains("model_" + module.Name.Replace("lora_unet", "diffusion_model") + "_weight", flatSgmKeys);
                Assert.Contains(DiffusersUnetLayer(module.Name, configs.UnetConfig.LayersPerBlock), diffusersLayers);
            }
            foreach (var module in network.TextEncoderModules)
            {
                Assert.Contains(module.Name, comfyClip);
                Assert.True(A1111TextModule(module.Name, flatSgmKeys), $"{module.Name}: A1111's lora_convert finds no module of the sgm text encoders");
            }
        }
    }

    /// <summary>
    /// diffusers' loader for kohya SDXL files (lora_conversion_utils: _maybe_map_sgm_blocks_to_diffusers, then
    /// _convert_unet_lora_key on "{name}.lora_down.weight"), reduced to the layer path its PEFT conversion targets.
    /// </summary>
    static string DiffusersUnetLayer(string name, int layersPerBlock)
    {
        string[] inner = ["resnets", "attentions", "upsamplers"];
        var parts = name.Split('_');
        var id = int.Parse(parts[4]);
        var perBlock = layersPerBlock + 1;
        string[] replaced = parts[2] switch
        {
            "input" => [$"{(id - 1) / perBlock}", name.Contains("op") ? "downsamplers" : inner[int.Parse(parts[5])], name.Contains("op") ? "0" : $"{(id - 1) % perBlock}"],
            "middle" => id switch { 0 => ["resnets", "0"], 1 => ["attentions", "0"], _ => ["resnets", "1"] },
            _ => [$"{id / perBlock}", inner[int.Parse(parts[5])], int.Parse(parts[5]) < 2 ? $"{id % perBlock}" : "0"],
        };
        var key = string.Join("_", parts[..4].Concat(replaced).Concat(parts[(parts[2] == "middle" ? 5 : 6)..])) + ".lora_down.weight";

        var d = key.Replace("lora_unet_", "").Replace('_', '.');
        foreach (var (from, to) in new[]
        {
            ("input.blocks.0.0", "conv_in"), ("out.2", "conv_out"), ("input.blocks", "down_blocks"), ("down.blocks", "down_blocks"),
            ("middle.block", "mid_block"), ("mid.block", "mid_block"), ("output.blocks", "up_blocks"), ("up.blocks", "up_blocks"),
            ("transformer.blocks", "transformer_blocks"), ("to.q.lora", "to_q_lora"), ("to.k.lora", "to_k_lora"), ("to.v.lora", "to_v_lora"),
            ("to.out.0.lora", "to_out_lora"), ("proj.in", "proj_in"), ("proj.out", "proj_out"), ("emb.layers", "time_emb_proj"),
            ("conv.in", "conv_in"), ("conv.out", "conv_out"), ("time.embed.0", "time_embedding.linear_1"), ("time.embed.2", "time_embedding.linear_2"),
            ("label.emb.0.0", "add_embedding.linear_1"), ("label.emb.0.2", "add_embedding.linear_2"),
        })
            d = d.Replace(from, to);
        if (d.Contains("emb") && !d.Contains("time.emb.proj")) d = new Regex(@"\.\d+(?=\D*$)").Replace(d, "", 1);
        if (d.Contains(".in.")) d = d.Replace("in.layers.2", "conv1");
        if (d.Contains(".out.")) d = d.Replace("out.layers.3", "conv2");
        if (d.Contains("downsamplers") || d.Contains("upsamplers")) d = d.Replace("op", "conv");
        if (d.Contains("skip")) d = d.Replace("skip.connection", "conv_shortcut");
        // PEFT conversion: "{layer}.lora.down.weight" / "{attn}.{to_x}_lora.down.weight" → the layer; to_out_lora → to_out.0.
        d = d.Replace("to_out_lora.down.weight", "to_out.0").Replace("_lora.down.weight", "").Replace(".lora.down.weight", "");
        return d;
    }

    /// <summary>A1111 lora_convert for lora_te1_/lora_te2_ names: the transformers or OpenCLIP module the name resolves to exists in the sgm file.</summary>
    static bool A1111TextModule(string name, HashSet<string> flatSgmKeys)
    {
        if (name.StartsWith("lora_te1_text_model_", StringComparison.Ordinal))
            return flatSgmKeys.Contains((ClipTextKeyMap.SdxlHfPrefix + "text_model_").Replace('.', '_') + name["lora_te1_text_model_".Length..] + "_weight");
        var m = Regex.Match(name, @"^lora_te2_text_model_encoder_layers_(\d+)_(.+)$");
        if (!m.Success) return false;
        var rest = m.Groups[2].Value switch
        {
            "mlp_fc1" => "mlp_c_fc",
            "mlp_fc2" => "mlp_c_proj",
            var other => other.Replace("self_attn", "attn"),
        };
        // re_x_proj: "…_attn_q_proj" falls back to the MultiheadAttention "…_attn" (its in_proj_weight).
        var openClip = (ClipTextKeyMap.SdxlOpenClipPrefix + $"transformer.resblocks.{m.Groups[1].Value}.").Replace('.', '_') + rest;
        return flatSgmKeys.Contains(openClip + "_weight")
            || Regex.Match(openClip, "^(.*)_[qkv]_proj$") is { Success: true } x && flatSgmKeys.Contains(x.Groups[1].Value + "_in_proj_weight");
    }
}
