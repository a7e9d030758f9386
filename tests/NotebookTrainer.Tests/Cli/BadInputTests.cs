using System.Text.RegularExpressions;
using NotebookTrainer.Cli;

namespace NotebookTrainer.Tests.Cli;

/// <summary>
/// Bad input to any ntrain command ends with exit code 2 and a message naming what was wrong, never an unhandled
/// exception. A misspelt option also exits 2, so each case checks the message names the file or name given.
/// </summary>
public sealed class BadInputTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("nt-cli-bad-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    static (int Code, string Err) Run(params string[] args)
    {
        var oldErr = Console.Error;
        using var stderr = new StringWriter();
        Console.SetError(stderr);
        try { return (Ntrain.Run(args), stderr.ToString()); }
        finally { Console.SetError(oldErr); }
    }

    static void AssertRejected((int Code, string Err) result, string named)
    {
        Assert.Equal(2, result.Code);
        Assert.Contains(named, result.Err);
        Assert.DoesNotContain("   at ", result.Err);
    }

    [Fact]
    public void A_corrupt_model_an_unknown_catalog_name_and_a_damaged_lora_exit_2_naming_the_file()
    {
        var garbage = Path.Combine(root, "model.ckpt");
        File.WriteAllText(garbage, "not a checkpoint");
        var prompts = Path.Combine(root, "prompts.txt");
        File.WriteAllText(prompts, "a red circle --w 64 --h 64 --s 2");

        AssertRejected(Run("sample", "--model", garbage, "--prompts", prompts, "--out", Path.Combine(root, "out")), garbage);
        AssertRejected(Run("download", "no-such-model", "--out", Path.Combine(root, "x")), "no-such-model");
        var lora = Run("lora", "inspect", garbage);
        AssertRejected(lora, garbage + ": not a valid safetensors file");
        Assert.Single(Regex.Matches(lora.Err, Regex.Escape(garbage)));
        AssertRejected(Run("model", "load", garbage), garbage);
    }

    [Fact]
    public void A_missing_run_folder_or_links_file_is_named_with_what_to_give_instead()
    {
        var run = Path.Combine(root, "no-run");
        AssertRejected(Run("log", run), run + ": no such run folder or file; give a training run's output_dir");
        var links = Path.Combine(root, "links.txt");
        AssertRejected(Run("acquire", "urls", links, "--out", Path.Combine(root, "images")), links + ": links file not found; give a text file with one image URL per line");
    }
}
