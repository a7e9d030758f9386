using NotebookTrainer.Cli;
using NotebookTrainer.Models;
using NotebookTrainer.Networks;
using NotebookTrainer.Sampling;
using NotebookTrainer.Tests.SafeTensors;
using NotebookTrainer.World;
using static TorchSharp.torch;

namespace NotebookTrainer.Tests.Sampling;

public class SampleCommandTests
{
    [Fact]
    public void SamplesTheTinyModelWithALoraIntoKohyaNames()
    {
        set_num_threads(1);
        using var dir = new TempDir();
        var modelPath = TinyStableDiffusion.Write(dir.File("model"));
        var prompts = dir.File("prompts.txt");
        File.WriteAllLines(prompts, ["# two prompts", "sks, red circle, white background --w 64 --h 64 --d 3", "sks, blue square --n white background --w 64 --h 48"]);
        using (var model = StableDiffusion.Load(modelPath))
        {
            manual_seed(4);
            using var network = LoraNetwork.Create(model.Unet, model.TextEncoder, new NetworkOptions { Dim = 2, Alpha = 1 });
            LoraFile.Save(dir.File("my_lora.safetensors"), network, SavePrecision.Float);
        }

        Assert.Equal(0, Ntrain.Run(["sample", "--model", modelPath, "--prompts", prompts, "--out", dir.File("out"),
            "--lora", dir.File("my_lora.safetensors") + ":0.8", "--steps", "2", "--sampler", "euler_a", "--seed", "10", "--epoch", "5"]));
        var files = Directory.GetFiles(dir.File("out/sample")).Select(Path.GetFileName).Order().ToArray();
        Assert.Equal(2, files.Length);
        Assert.Matches(@"^my_lora_000005_00_\d{14}\.png$", files[0]);
        Assert.Matches(@"^my_lora_000005_01_\d{14}\.png$", files[1]);

        Assert.Equal(0, Ntrain.Run(["sample", "prompts", prompts]));
        Assert.Equal(2, Ntrain.Run(["sample", "--model", modelPath, "--prompts", prompts, "--out", dir.File("out"), "--sampler", "nope"]));
        Assert.Equal(2, Ntrain.Run(["sample", "--model", dir.File("missing.safetensors"), "--prompts", prompts, "--out", dir.File("out")]));
        File.WriteAllLines(prompts, ["x --s many"]);
        Assert.Equal(2, Ntrain.Run(["sample", "prompts", prompts]));
    }
}
