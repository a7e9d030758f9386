using NotebookTrainer.Checkpoints;
using NotebookTrainer.Tests.SafeTensors;
using static TorchSharp.torch;

namespace NotebookTrainer.Tests.Checkpoints;

public class DiffusersFolderTests
{
    static byte[] Bytes(Tensor t) => t.contiguous().bytes.ToArray();

    [Fact]
    public void Single_file_to_diffusers_folder_to_single_file_round_trips()
    {
        using var dir = new TempDir();
        var config = TinyCheckpoints.WriteConfigFolder(dir.File("config"), ModelArchitecture.StableDiffusion1);
        var original = TinyCheckpoints.Write(dir.File("model.safetensors"), TinyCheckpoints.LdmTensors(ModelArchitecture.StableDiffusion1));
        Directory.CreateDirectory(dir.File("tokenizer"));
        File.WriteAllText(Path.Combine(dir.File("tokenizer"), "vocab.json"), "{}");

        var folder = dir.File("diffusers");
        using (var weights = CheckpointLoader.Load(original, config))
        {
            Assert.Equal(dir.File("tokenizer"), weights.TokenizerDir);
            CheckpointWriter.WriteDiffusersFolder(weights, folder);
        }
        foreach (var file in new[] { "unet/config.json", "unet/diffusion_pytorch_model.safetensors", "vae/config.json", "vae/diffusion_pytorch_model.safetensors",
                     "text_encoder/config.json", "text_encoder/model.safetensors", "scheduler/scheduler_config.json", "model_index.json", "tokenizer/vocab.json" })
            Assert.True(File.Exists(Path.Combine(folder, file)), file);

        using var fromFolder = CheckpointLoader.Load(folder);
        Assert.Equal(ModelArchitecture.StableDiffusion1, fromFolder.Architecture);
        using var fromFile = CheckpointLoader.Load(original, config);
        foreach (var component in StableDiffusionWeights.ComponentNames)
        {
            Assert.Equal(fromFile.Components[component].Keys.Order(), fromFolder.Components[component].Keys.Order());
            foreach (var (name, tensor) in fromFile.Components[component])
                Assert.Equal(Bytes(tensor), Bytes(fromFolder.Components[component][name]));
        }
        // Back to one file: everything but the carried-through buffers, which a diffusers folder has no place for.
        var back = dir.File("back.safetensors");
        CheckpointWriter.WriteSingleFile(fromFolder, back);
        using var reloaded = CheckpointLoader.Load(back, config);
        Assert.Equal(Bytes(fromFile.Vae["encoder.mid_block.attentions.0.to_v.weight"]), Bytes(reloaded.Vae["encoder.mid_block.attentions.0.to_v.weight"]));
    }

    [Fact]
    public void Half_precision_folder_and_missing_subfolder()
    {
        using var dir = new TempDir();
        var config = TinyCheckpoints.WriteConfigFolder(dir.File("config"), ModelArchitecture.StableDiffusion1);
        var original = TinyCheckpoints.Write(dir.File("model.safetensors"), TinyCheckpoints.LdmTensors(ModelArchitecture.StableDiffusion1));
        var folder = dir.File("diffusers");
        using (var weights = CheckpointLoader.Load(original, config))
            CheckpointWriter.WriteDiffusersFolder(weights, folder, ScalarType.Float16);
        using (var half = CheckpointLoader.Load(folder))
            Assert.Equal(ScalarType.Float16, half.Unet["conv_in.weight"].dtype);

        Directory.Delete(Path.Combine(folder, "vae"), recursive: true);
        var e = Assert.Throws<CheckpointFormatException>(() => CheckpointLoader.Load(folder));
        Assert.Contains("vae/", e.Message);
        Assert.Contains(folder, e.Message);
    }

    [Fact]
    public void Missing_weights_inside_a_component_are_named()
    {
        using var dir = new TempDir();
        var config = TinyCheckpoints.WriteConfigFolder(dir.File("config"), ModelArchitecture.StableDiffusion1);
        var original = TinyCheckpoints.Write(dir.File("model.safetensors"), TinyCheckpoints.LdmTensors(ModelArchitecture.StableDiffusion1));
        var folder = dir.File("diffusers");
        using (var weights = CheckpointLoader.Load(original, config))
        {
            weights.Unet.Remove("mid_block.resnets.1.conv2.weight");
            CheckpointWriter.WriteDiffusersFolder(weights, folder);
        }
        var e = Assert.Throws<CheckpointFormatException>(() => CheckpointLoader.Load(folder));
        Assert.Contains("unet/mid_block.resnets.1.conv2.weight", e.Message);
    }

    [Fact]
    public void A_single_file_without_a_tokenizer_folder_says_where_to_put_one()
    {
        using var dir = new TempDir();
        var config = TinyCheckpoints.WriteConfigFolder(dir.File("config"), ModelArchitecture.StableDiffusion1);
        var path = TinyCheckpoints.Write(dir.File("model.safetensors"), TinyCheckpoints.LdmTensors(ModelArchitecture.StableDiffusion1));
        using (var weights = CheckpointLoader.Load(path, config)) Assert.Null(weights.TokenizerDir);
        var help = NotebookTrainer.Tokenizers.ClipTokenizer.MissingTokenizerHelp(path);   // what sampling and training say then
        Assert.Contains(path, help);
        Assert.Contains(Path.Combine(dir.Path, "tokenizer"), help);
        Assert.Contains("--tokenizer DIR", help);

        var tokenizer = NotebookTrainer.Tokenizers.ClipTokenizer.BuildTiny(["a photo of a dog"], 10, dir.File("tokenizer"));
        using var again = CheckpointLoader.Load(path, config);
        Assert.Equal(dir.File("tokenizer"), again.TokenizerDir);
        Assert.Equal(tokenizer.Encode("a dog"), NotebookTrainer.Tokenizers.ClipTokenizer.Load(again.TokenizerDir!).Encode("a dog"));
    }
}
