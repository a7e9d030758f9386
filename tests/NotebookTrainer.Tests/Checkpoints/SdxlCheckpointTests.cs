using NotebookTrainer.Checkpoints;
using NotebookTrainer.ModelConfigs;
using NotebookTrainer.Models;
using NotebookTrainer.Models.Clip;
using NotebookTrainer.Models.UNet;
using NotebookTrainer.SafeTensors;
using NotebookTrainer.Tests.SafeTensors;
using NotebookTrainer.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.Tests.Checkpoints;

/// <summary>SDXL's sgm single-file layout and diffusers folders: names, shapes, detection and round trips.</summary>
public class SdxlCheckpointTests
{
    static long Parameters(IEnumerable<KeyMapping> mappings) => mappings.Sum(m => m.Shape.Aggregate(1L, (a, b) => a * b));

    static Dictionary<string, long[]> ModuleShapes(nn.Module module) => module.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape);

    [Fact]
    public void The_SDXL_base_sgm_layout_names_every_tensor_of_our_modules_with_its_shape()
    {
        var configs = DiffusersConfigs.Defaults(ModelArchitecture.StableDiffusionXL);
        var all = SingleFileLayout.Mappings(ModelArchitecture.StableDiffusionXL, configs);
        var meta = device("meta");
        using var unet = new UNet2DConditionModel(configs.UnetConfig, device: meta);
        using var text = new CLIPTextModel(configs.TextEncoderConfig, device: meta);
        using var text2 = new CLIPTextModelWithProjection(configs.TextEncoder2Config!, device: meta);
        foreach (var (component, module) in new (string, nn.Module)[] { ("unet", unet), ("text_encoder", text), ("text_encoder_2", text2) })
        {
            var mapped = all.Where(m => m.Component == component).ToDictionary(m => m.DiffusersName, m => m.Shape);
            var shapes = ModuleShapes(module);
            Assert.Equal(shapes.Keys.Order(StringComparer.Ordinal), mapped.Keys.Order(StringComparer.Ordinal));
            Assert.All(shapes, kv => Assert.Equal(kv.Value, mapped[kv.Key]));
        }
        Assert.Equal(2_567_463_684, Parameters(all.Where(m => m.Component == "unet")));
        Assert.Equal(123_060_480, Parameters(all.Where(m => m.Component == "text_encoder")));
        Assert.Equal(694_659_840, Parameters(all.Where(m => m.Component == "text_encoder_2")));

        KeyMapping Ldm(string name) => Assert.Single(all, m => m.LdmName == name && m.Part == 0);
        Assert.Equal("add_embedding.linear_1.weight", Ldm("model.diffusion_model.label_emb.0.0.weight").DiffusersName);
        Assert.Equal(new long[] { 1280, 2816 }, Ldm("model.diffusion_model.label_emb.0.0.weight").LdmShape);
        Assert.Equal("add_embedding.linear_2.bias", Ldm("model.diffusion_model.label_emb.0.2.bias").DiffusersName);
        Assert.DoesNotContain(all, m => m.LdmName.StartsWith("model.diffusion_model.input_blocks.1.1.", StringComparison.Ordinal));
        Assert.Equal("down_blocks.1.attentions.0.transformer_blocks.1.attn2.to_k.weight", Ldm("model.diffusion_model.input_blocks.4.1.transformer_blocks.1.attn2.to_k.weight").DiffusersName);
        Assert.Equal(new long[] { 640, 2048 }, Ldm("model.diffusion_model.input_blocks.4.1.transformer_blocks.1.attn2.to_k.weight").LdmShape);
        Assert.Equal("mid_block.attentions.0.transformer_blocks.9.ff.net.2.weight", Ldm("model.diffusion_model.middle_block.1.transformer_blocks.9.ff.net.2.weight").DiffusersName);
        Assert.Equal("up_blocks.0.upsamplers.0.conv.weight", Ldm("model.diffusion_model.output_blocks.2.2.conv.weight").DiffusersName);
        Assert.Equal("up_blocks.1.upsamplers.0.conv.weight", Ldm("model.diffusion_model.output_blocks.5.2.conv.weight").DiffusersName);
        Assert.Equal("up_blocks.2.resnets.2.conv_shortcut.weight", Ldm("model.diffusion_model.output_blocks.8.0.skip_connection.weight").DiffusersName);
        Assert.DoesNotContain(all, m => m.LdmName.StartsWith("model.diffusion_model.output_blocks.6.1.", StringComparison.Ordinal));

        Assert.Equal("text_model.encoder.layers.11.mlp.fc2.weight", Ldm("conditioner.embedders.0.transformer.text_model.encoder.layers.11.mlp.fc2.weight").DiffusersName);
        var v = Assert.Single(all, m => m.DiffusersName == "text_model.encoder.layers.31.self_attn.v_proj.weight" && m.Component == "text_encoder_2");
        Assert.Equal(("conditioner.embedders.1.model.transformer.resblocks.31.attn.in_proj_weight", KeyTransform.QkvSplit, 2), (v.LdmName, v.Transform, v.Part));
        Assert.Equal(new long[] { 3840, 1280 }, v.LdmShape);
        var projection = Ldm("conditioner.embedders.1.model.text_projection");
        Assert.Equal(("text_projection.weight", KeyTransform.Transpose), (projection.DiffusersName, projection.Transform));
        Assert.Equal("text_model.final_layer_norm.weight", Ldm("conditioner.embedders.1.model.ln_final.weight").DiffusersName);
        Assert.Equal("text_model.embeddings.position_embedding.weight", Ldm("conditioner.embedders.1.model.positional_embedding").DiffusersName);
        Assert.Equal("text_model.embeddings.token_embedding.weight", Ldm("conditioner.embedders.1.model.token_embedding.weight").DiffusersName);
        Assert.Equal("encoder.down_blocks.0.resnets.0.conv1.weight", Ldm("first_stage_model.encoder.down.0.block.0.conv1.weight").DiffusersName);
    }

    [Fact]
    public void An_sgm_file_loads_with_the_projection_transposed_and_the_qkv_split_and_writes_back_bit_exact()
    {
        using var dir = new TempDir();
        var config = TinyCheckpoints.WriteConfigFolder(dir.File("config"), ModelArchitecture.StableDiffusionXL);
        var tensors = TinyCheckpoints.LdmTensors(ModelArchitecture.StableDiffusionXL);
        var original = TinyCheckpoints.Write(dir.File("model.safetensors"), tensors, new Dictionary<string, string> { ["modelspec.architecture"] = "stable-diffusion-xl-v1-base" });

        using (var analysis = CheckpointLoader.Analyze(original, config))
        {
            Assert.Equal(ModelArchitecture.StableDiffusionXL, analysis.Detection.Architecture);
            Assert.True(analysis.CanLoad, analysis.Detection.Description);
            Assert.Empty(analysis.UnexpectedKeys);
            Assert.Equal(2, analysis.PassthroughKeys.Count);
        }
        using var weights = CheckpointLoader.Load(original, config);
        var projection = tensors["conditioner.embedders.1.model.text_projection"];
        Assert.Equal(new long[] { 12, 6 }, projection.shape);
        Assert.True(weights.TextEncoder2!["text_projection.weight"].equal(projection.t()).all().item<bool>());
        var inProj = tensors["conditioner.embedders.1.model.transformer.resblocks.1.attn.in_proj_weight"];
        Assert.True(weights.TextEncoder2["text_model.encoder.layers.1.self_attn.k_proj.weight"].equal(inProj[12..24]).all().item<bool>());
        Assert.True(weights.Unet["add_embedding.linear_1.weight"].equal(tensors["model.diffusion_model.label_emb.0.0.weight"]).all().item<bool>());
        Assert.True(weights.TextEncoder["text_model.final_layer_norm.bias"].equal(tensors["conditioner.embedders.0.transformer.text_model.final_layer_norm.bias"]).all().item<bool>());

        var copy = dir.File("copy.safetensors");
        CheckpointWriter.WriteSingleFile(weights, copy);
        Assert.Equal(File.ReadAllBytes(original), File.ReadAllBytes(copy));
    }

    [Fact]
    public void Diffusers_folder_to_sgm_file_and_back_keeps_every_tensor_and_the_model_runs()
    {
        using var dir = new TempDir();
        var config = TinyCheckpoints.WriteConfigFolder(dir.File("config"), ModelArchitecture.StableDiffusionXL);
        var original = TinyCheckpoints.Write(dir.File("model.safetensors"), TinyCheckpoints.LdmTensors(ModelArchitecture.StableDiffusionXL));
        using var weights = CheckpointLoader.Load(original, config);
        var folder = dir.File("diffusers");
        CheckpointWriter.WriteDiffusersFolder(weights, folder);
        Assert.Contains("StableDiffusionXLPipeline", File.ReadAllText(Path.Combine(folder, "model_index.json")));
        Assert.True(File.Exists(Path.Combine(folder, "text_encoder_2", "model.safetensors")));

        using var fromFolder = CheckpointLoader.Load(folder);
        Assert.Equal(ModelArchitecture.StableDiffusionXL, fromFolder.Architecture);
        foreach (var component in StableDiffusionWeights.SdxlComponentNames)
        {
            Assert.Equal(weights.Components[component].Keys.Order(StringComparer.Ordinal), fromFolder.Components[component].Keys.Order(StringComparer.Ordinal));
            Assert.All(weights.Components[component], kv => Assert.True(kv.Value.equal(fromFolder.Components[component][kv.Key]).all().item<bool>(), kv.Key));
        }
        var again = dir.File("again.safetensors");
        CheckpointWriter.WriteSingleFile(fromFolder, again);
        using (var a = SafeTensorsFile.Open(original))
        using (var b = SafeTensorsFile.Open(again))
        {
            var expected = a.Names.Where(n => !n.EndsWith("position_ids", StringComparison.Ordinal) && !n.EndsWith("logit_scale", StringComparison.Ordinal)).Order(StringComparer.Ordinal);
            Assert.Equal(expected, b.Names.Order(StringComparer.Ordinal));
            Assert.All(b.Names, n => Assert.True(a.Load(n).equal(b.Load(n)).all().item<bool>(), n));
        }

        using var model = StableDiffusion.Load(folder, dtype: ScalarType.Float32);
        Assert.True(model.IsSdxl);
        using var _ = no_grad();
        var (context, pooled) = TextEncoding.EncodeSdxl(model.TextEncoder, model.TextEncoder2!, zeros(1, 77, ScalarType.Int64), zeros(1, 77, ScalarType.Int64));
        Assert.Equal(new long[] { 1, 77, 8 + 12 }, context.shape);
        Assert.Equal(new long[] { 1, 6 }, pooled.shape);
    }

    [Fact]
    public void SDXL_is_detected_and_inspected_and_the_refiner_and_half_files_are_refused_by_name()
    {
        using var dir = new TempDir();
        var config = TinyCheckpoints.WriteConfigFolder(dir.File("config"), ModelArchitecture.StableDiffusionXL);
        var tensors = TinyCheckpoints.LdmTensors(ModelArchitecture.StableDiffusionXL);
        var path = TinyCheckpoints.Write(dir.File("model.safetensors"), tensors);
        var inspection = ModelInspection.Inspect(path);
        Assert.Equal(ModelArchitecture.StableDiffusionXL, inspection.Architecture);
        Assert.True(inspection.Supported);
        Assert.Contains("Stable Diffusion XL (cross-attention 2048", inspection.Description);
        Assert.Contains("text_encoder_2", inspection.ParameterCounts.Keys);
        Assert.Contains("LoRA / LoCon / LoHa training, sampling, inspect, convert, model verify; not yet full-model training", inspection.ToText());

        var refiner = tensors.Where(kv => kv.Key.StartsWith("model.diffusion_model.", StringComparison.Ordinal))
            .Append(new("conditioner.embedders.0.model.ln_final.weight", ones(12))).ToDictionary();
        using (var analysis = CheckpointLoader.Analyze(TinyCheckpoints.Write(dir.File("refiner.safetensors"), refiner)))
            Assert.Contains("refiner", analysis.Detection.Description);
        var half = tensors.Where(kv => !kv.Key.StartsWith(ClipTextKeyMap.SdxlOpenClipPrefix, StringComparison.Ordinal)).ToDictionary();
        var e = Assert.Throws<CheckpointFormatException>(() => CheckpointLoader.Load(TinyCheckpoints.Write(dir.File("half.safetensors"), half), config));
        Assert.Contains("conditioner.embedders.1.model.", e.Message);
    }

    [Fact]
    public void Full_model_training_on_an_SDXL_model_is_refused_with_a_clear_message()
    {
        using var dir = new TempDir();
        TinyCheckpoints.WriteConfigFolder(dir.File("config"), ModelArchitecture.StableDiffusionXL);
        var path = TinyCheckpoints.Write(dir.File("xl.safetensors"), TinyCheckpoints.LdmTensors(ModelArchitecture.StableDiffusionXL));
        var config = TrainingConfig.Parse($"""
            pretrained_model_name_or_path = {System.Text.Json.JsonSerializer.Serialize(path)}
            train_data_dir = "unused"
            output_dir = {System.Text.Json.JsonSerializer.Serialize(dir.File("out"))}
            """);
        var e = Assert.Throws<TrainingException>(() => TrainingModelLoader.Load(config, method: TrainingMethod.DreamBooth));
        Assert.Contains(path, e.Message);
        Assert.Contains("is an SDXL model; on SDXL only LoRA / LoCon / LoHa training (sdxl_train_network.py) is available, not DreamBooth", e.Message);
    }
}
