using NotebookTrainer.Cli;

namespace NotebookTrainer.Tests.Cli;

/// <summary>Bad input to any ntrain command ends with exit code 2 and a message, never an unhandled exception.</summary>
public sealed class BadInputTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("nt-cli-bad-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Fact]
    public void A_corrupt_model_an_unknown_catalog_name_and_a_damaged_lora_exit_2()
    {
        var garbage = Path.Combine(root, "model.ckpt");
        File.WriteAllText(garbage, "not a checkpoint");
        var prompts = Path.Combine(root, "prompts.txt");
        File.WriteAllText(prompts, "a red circle --w 64 --h 64 --s 2");

        Assert.Equal(2, Ntrain.Run(["sample", "--model", garbage, "--prompts", prompts, "--out", Path.Combine(root, "out")]));
        Assert.Equal(2, Ntrain.Run(["download", "no-such-model", "--out", Path.Combine(root, "x")]));
        Assert.Equal(2, Ntrain.Run(["lora", "inspect", garbage]));
        Assert.Equal(2, Ntrain.Run(["model", "load", garbage]));
    }
}
