using NotebookTrainer.ModelConfigs;
using NotebookTrainer.Checkpoints;
using NotebookTrainer.SafeTensors;
using NotebookTrainer.Tests.SafeTensors;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.Tests.Checkpoints;

public class BadBaseModelTests
{
    static string WriteKeys(TempDir dir, string file, params (string Name, long[] Shape)[] keys)
    {
        var path = dir.File(file);
        SafeTensorsWriter.Write(path, keys.ToDictionary(k => k.Name, k => torch.zeros(k.Shape, ScalarType.Float16)), null);
        return path;
    }

    static CheckpointFormatException Refused(string path)
    {
        var e = Assert.Throws<CheckpointFormatException>(() => CheckpointLoader.Load(path));
        Assert.Contains(path, e.Message);
        return e;
    }

    [Fact]
    public void A_lora_passed_as_base_model_says_so()
    {
        using var dir = new TempDir();
        var path = WriteKeys(dir, "my_lora.safetensors",
            ("lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight", [4, 320, 1, 1]),
            ("lora_unet_down_blocks_0_attentions_0_proj_in.lora_up.weight", [320, 4, 1, 1]),
            ("lora_unet_down_blocks_0_attentions_0_proj_in.alpha", []));
        var e = Refused(path);
        Assert.Contains("LoRA", e.Message);
        Assert.Contains("lora_unet_down_blocks_0_attentions_0_proj_in", e.Message);
    }

    [Fact]
    public void A_loha_passed_as_base_model_says_so()
    {
        using var dir = new TempDir();
        var e = Refused(WriteKeys(dir, "loha.safetensors", ("lora_te_text_model_encoder_layers_0_mlp_fc1.hada_w1_a", [3072, 4])));
        Assert.Contains("not a base model", e.Message);
    }

    [Fact]
    public void SDXL_and_SD3_and_Flux_are_named_and_refused()
    {
        using var dir = new TempDir();
        Assert.Contains("SDXL", Refused(WriteKeys(dir, "xl.safetensors",
            ("conditioner.embedders.0.transformer.text_model.final_layer_norm.weight", [768]),
            ("model.diffusion_model.input_blocks.4.1.transformer_blocks.0.attn2.to_k.weight", [640, 2048]))).Message);
        Assert.Contains("SD3", Refused(WriteKeys(dir, "sd3.safetensors",
            ("model.diffusion_model.joint_blocks.0.x_block.attn.qkv.weight", [4608, 1536]))).Message);
        Assert.Contains("Flux", Refused(WriteKeys(dir, "flux.safetensors", ("double_blocks.0.img_attn.qkv.weight", [9216, 3072]))).Message);
    }

    [Fact]
    public void Unknown_key_sets_list_what_was_found()
    {
        using var dir = new TempDir();
        var e = Refused(WriteKeys(dir, "what.safetensors", ("backbone.stem.weight", [8, 3, 3, 3]), ("head.fc.weight", [10, 8])));
        Assert.Contains("backbone", e.Message);
        Assert.Contains("head", e.Message);
        Assert.Contains("VAE", Refused(WriteKeys(dir, "vae.safetensors", ("encoder.conv_in.weight", [128, 3, 3, 3]), ("decoder.conv_in.weight", [512, 4, 3, 3]))).Message);
    }

    [Fact]
    public void Missing_keys_are_listed_by_name()
    {
        using var dir = new TempDir();
        var config = TinyCheckpoints.WriteConfigFolder(dir.File("config"), ModelArchitecture.StableDiffusion1);
        var tensors = TinyCheckpoints.LdmTensors(ModelArchitecture.StableDiffusion1);
        tensors.Remove("model.diffusion_model.middle_block.1.proj_out.bias");
        tensors.Remove("first_stage_model.decoder.up.2.upsample.conv.weight");
        var path = TinyCheckpoints.Write(dir.File("incomplete.safetensors"), tensors);
        using (var analysis = CheckpointLoader.Analyze(path, config))
            Assert.Equal(["model.diffusion_model.middle_block.1.proj_out.bias", "first_stage_model.decoder.up.2.upsample.conv.weight"], analysis.MissingKeys);
        var e = Assert.Throws<CheckpointFormatException>(() => CheckpointLoader.Load(path, config));
        Assert.Contains("2 expected tensors are missing", e.Message);
        Assert.Contains("model.diffusion_model.middle_block.1.proj_out.bias", e.Message);
    }

    [Fact]
    public void A_truncated_checkpoint_is_a_format_error_naming_the_file()
    {
        using var dir = new TempDir();
        var config = TinyCheckpoints.WriteConfigFolder(dir.File("config"), ModelArchitecture.StableDiffusion1);
        var path = TinyCheckpoints.Write(dir.File("cut.safetensors"), TinyCheckpoints.LdmTensors(ModelArchitecture.StableDiffusion1));
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        var e = Assert.Throws<SafeTensorsFormatException>(() => CheckpointLoader.Load(path, config));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void A_broken_config_folder_names_the_file_and_key()
    {
        using var dir = new TempDir();
        var config = TinyCheckpoints.WriteConfigFolder(dir.File("config"), ModelArchitecture.StableDiffusion1);
        var unetConfig = Path.Combine(config, "unet", "config.json");
        File.WriteAllText(unetConfig, File.ReadAllText(unetConfig).Replace("\"layers_per_block\"", "\"layers_per_blok\""));
        var path = TinyCheckpoints.Write(dir.File("model.safetensors"), TinyCheckpoints.LdmTensors(ModelArchitecture.StableDiffusion1));
        var e = Assert.Throws<ModelConfigException>(() => CheckpointLoader.Load(path, config));
        Assert.Contains(unetConfig, e.Message);
        Assert.Contains("missing key 'layers_per_block'", e.Message);
    }
}
