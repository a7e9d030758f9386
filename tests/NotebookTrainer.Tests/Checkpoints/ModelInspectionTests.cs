using System.Security.Cryptography;
using System.Text.Json;
using NotebookTrainer.Checkpoints;
using NotebookTrainer.Cli;
using NotebookTrainer.Models;
using NotebookTrainer.ModelConfigs;
using NotebookTrainer.Models.Vae;
using NotebookTrainer.SafeTensors;
using NotebookTrainer.Tests.SafeTensors;
using NotebookTrainer.Training;
using NotebookTrainer.World;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.Tests.Checkpoints;

public class ModelInspectionTests
{
    [Fact]
    public void Inspect_reports_architecture_parameters_dtypes_and_hashes()
    {
        using var dir = new TempDir();
        var config = TinyCheckpoints.WriteConfigFolder(dir.File("config"), ModelArchitecture.StableDiffusion1);
        var tensors = TinyCheckpoints.LdmTensors(ModelArchitecture.StableDiffusion1, ScalarType.Float16);
        tensors["model_ema.decay"] = torch.tensor(0.9999f);
        tensors["some.stray.key"] = torch.ones(3);
        var path = TinyCheckpoints.Write(dir.File("tiny <sd1>.safetensors"), tensors, new Dictionary<string, string> { ["modelspec.title"] = "<script>x</script>" });

        var inspection = ModelInspection.Inspect(path, config);
        Assert.Equal(CheckpointFormat.SingleFile, inspection.Format);
        Assert.Equal(ModelArchitecture.StableDiffusion1, inspection.Architecture);
        Assert.True(inspection.Supported);
        Assert.Equal(["unet", "vae", "text_encoder"], inspection.ParameterCounts.Keys);
        var expectedUnet = SingleFileLayout.Mappings(ModelArchitecture.StableDiffusion1, TinyCheckpoints.Configs(ModelArchitecture.StableDiffusion1))
            .Where(m => m.Component == "unet").Sum(m => m.Shape.Aggregate(1L, (a, b) => a * b));
        Assert.Equal(expectedUnet, inspection.ParameterCounts["unet"]);
        Assert.Equal(tensors.Count, inspection.TensorCount);
        Assert.Equal(1, inspection.IgnoredKeyCount);
        Assert.Equal(["some.stray.key"], inspection.UnexpectedKeys);
        Assert.Empty(inspection.MissingKeys);
        Assert.Equal(1, inspection.DTypes["I64"]);
        Assert.Equal(686 + 248 + 36, inspection.DTypes["F16"]);

        var bytes = File.ReadAllBytes(path);
        var sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
        var file = Assert.Single(inspection.Files);
        Assert.Equal(sha, file.Sha256);
        Assert.Equal(sha[..10], file.ShortHash);
        var legacy = bytes.Length > 0x100000 ? bytes.AsSpan(0x100000, Math.Min(0x10000, bytes.Length - 0x100000)) : [];
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(legacy))[..8], file.LegacyModelHash);

        var html = inspection.ToHtml();
        Assert.DoesNotContain("<script>", html);
        Assert.DoesNotContain("<sd1>", html);
        Assert.Contains("&lt;sd1&gt;", html);
        Assert.Contains("A1111 short hash: " + sha[..10], inspection.ToText());
    }

    [Fact]
    public void Legacy_hash_of_a_small_file_is_the_hash_of_nothing_as_in_A1111()
    {
        using var dir = new TempDir();
        var path = dir.File("small.safetensors");
        SafeTensorsWriter.Write(path, new Dictionary<string, Tensor> { ["x"] = torch.ones(4) }, null);
        Assert.Equal("e3b0c442", FileHashes.Compute(path).LegacyModelHash);
    }

    [Theory]
    [InlineData(0x100000, "e3b0c442")]
    [InlineData(0x100000 + 3, null)]
    public void Legacy_hash_seeks_to_one_mebibyte_even_when_the_file_ends_there(int size, string? expected)
    {
        using var dir = new TempDir();
        var bytes = new byte[size];
        new Random(size).NextBytes(bytes);
        var path = dir.File("model.bin");
        File.WriteAllBytes(path, bytes);
        expected ??= Convert.ToHexStringLower(SHA256.HashData(bytes.AsSpan(0x100000)))[..8];
        Assert.Equal(expected, FileHashes.LegacyModelHashOf(path));
        Assert.Equal(expected, FileHashes.Compute(path).LegacyModelHash);
    }

    [Fact]
    public void Training_records_the_legacy_hashes_model_inspect_shows_also_for_files_under_one_mebibyte()
    {
        using var dir = new TempDir();
        var smallVae = new AutoencoderKLConfig { BlockOutChannels = [8, 16], LayersPerBlock = 1, NormNumGroups = 4, SampleSize = 64 };
        var model = TinyStableDiffusion.Write(dir.File("model"), configs: TinyStableDiffusion.Test with { Vae = smallVae });
        var vaeFile = dir.File("small-vae.safetensors");
        using (var vae = new AutoencoderKL(smallVae))
            SafeTensorsWriter.Write(vaeFile, vae.named_parameters().Select(p => KeyValuePair.Create(p.name, p.parameter.detach())));
        Assert.True(new FileInfo(vaeFile).Length < 0x100000);
        var config = TrainingConfig.Parse($"""
            pretrained_model_name_or_path = {JsonSerializer.Serialize(model)}
            vae = {JsonSerializer.Serialize(vaeFile)}
            train_data_dir = "unused"
            output_dir = {JsonSerializer.Serialize(dir.File("out"))}
            """);

        using var models = TrainingModelLoader.Load(config, CPU);

        Assert.Equal(FileHashes.Compute(model).LegacyModelHash, models.ModelHash);
        Assert.Equal(FileHashes.Compute(vaeFile).LegacyModelHash, models.VaeHash);
        Assert.Equal("e3b0c442", models.VaeHash);
    }

    [Fact]
    public void Inspect_explains_a_lora_instead_of_failing()
    {
        using var dir = new TempDir();
        var path = dir.File("lora.safetensors");
        SafeTensorsWriter.Write(path, new Dictionary<string, Tensor> { ["lora_te_text_model_encoder_layers_0_mlp_fc1.lora_down.weight"] = torch.ones(4, 8) }, null);
        var inspection = ModelInspection.Inspect(path);
        Assert.Equal(ModelArchitecture.LoRA, inspection.Architecture);
        Assert.False(inspection.Supported);
        Assert.Contains("not a base model", inspection.Description);
    }

    static (int Code, string Out, string Err) Cli(params string[] args)
    {
        var (oldOut, oldErr) = (Console.Out, Console.Error);
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        Console.SetOut(stdout);
        Console.SetError(stderr);
        try { return (Ntrain.Run(args), stdout.ToString(), stderr.ToString()); }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldErr);
        }
    }

    [Fact]
    public void Cli_model_inspect_prints_json_and_rejects_bad_input_with_exit_code_2()
    {
        using var dir = new TempDir();
        var config = TinyCheckpoints.WriteConfigFolder(dir.File("config"), ModelArchitecture.StableDiffusion2);
        var path = TinyCheckpoints.Write(dir.File("sd2.safetensors"), TinyCheckpoints.LdmTensors(ModelArchitecture.StableDiffusion2));

        var (code, output, _) = Cli("model", "inspect", path, "--json", "--config", config);
        Assert.Equal(0, code);
        using var json = JsonDocument.Parse(output);
        Assert.Equal("StableDiffusion2", json.RootElement.GetProperty("architecture").GetString());
        Assert.Equal("epsilon", json.RootElement.GetProperty("prediction_type").GetString());
        Assert.Equal(64, json.RootElement.GetProperty("files")[0].GetProperty("sha256").GetString()!.Length);

        var text = Cli("model", "inspect", path, "--config", config);
        Assert.Equal(0, text.Code);
        Assert.Contains("architecture: Stable Diffusion 2.x", text.Out);

        File.WriteAllBytes(dir.File("broken.safetensors"), [1, 2, 3]);
        var broken = Cli("model", "inspect", dir.File("broken.safetensors"));
        Assert.Equal(2, broken.Code);
        Assert.Contains("broken.safetensors", broken.Err);
        Assert.DoesNotContain("   at ", broken.Err);

        Assert.Equal(2, Cli("model", "inspect").Code);
        Assert.Equal(2, Cli("model", "inspect", path, "--bogus").Code);
        Assert.Contains("no such checkpoint", Cli("model", "inspect", dir.File("nope.safetensors")).Err);
    }
}
