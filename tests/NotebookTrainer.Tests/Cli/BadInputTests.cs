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

    [Fact]
    public void A_misspelt_option_exits_2_naming_it_and_suggesting_the_right_one()
    {
        var result = Run("pretrain", "--out", Path.Combine(root, "run"), "--sed", "7");
        AssertRejected(result, "ntrain pretrain: Unrecognized command or argument '--sed'. Did you mean --seed?");
        Assert.Single(result.Err.Trim().Split('\n'));
        AssertRejected(Run("tags", "stat", root), "'stat'. Did you mean stats?");
        Assert.False(Directory.Exists(Path.Combine(root, "run")));
    }

    [Fact]
    public void A_number_option_given_a_word_or_a_comma_decimal_exits_2_naming_the_option()
    {
        AssertRejected(Run("pretrain", "--out", Path.Combine(root, "run"), "--seed", "abc"), "ntrain pretrain: --seed must be a whole number, not 'abc'.");
        AssertRejected(Run("tag", root, "--model", root, "--general-threshold", "0,5"), "--general-threshold must be a number such as 0.35, not '0,5'.");
        AssertRejected(Run("tag", root, "--model", root, "--general-threshold", "1.5"), "--general-threshold must be between 0 and 1, not 1.5.");
        Assert.False(Directory.Exists(Path.Combine(root, "run")));
    }

    [Fact]
    public void A_missing_option_value_or_argument_exits_2_naming_what_is_missing()
    {
        AssertRejected(Run("pretrain", "--out"), "'--out'");
        AssertRejected(Run("pretrain"), "Option '--out' is required.");
        AssertRejected(Run("model", "inspect"), "ntrain model inspect: missing <path>: a checkpoint");
        AssertRejected(Run("model"), "See 'ntrain model --help'.");
    }

    [Fact]
    public void Help_comes_from_the_parser_and_exits_0()
    {
        var oldOut = Console.Out;
        using var stdout = new StringWriter();
        Console.SetOut(stdout);
        try { Assert.Equal(0, Ntrain.Run(["tags", "edit", "--help"])); }
        finally { Console.SetOut(oldOut); }
        Assert.Contains("tags edit <dir> [options]", stdout.ToString());
        Assert.Contains("--prune-below <N>", stdout.ToString());
    }

    [Fact]
    public void An_internal_error_is_one_line_naming_the_failure_and_a_file_with_the_full_trace()
    {
        Exception failure;
        try
        {
            throw new System.Runtime.InteropServices.ExternalException("Expected false to be true, but got false.\nException raised from toDouble at c10/core/Scalar.h:140\nframe #0: ...");
        }
        catch (Exception e)
        {
            failure = e;
        }

        var message = Ntrain.InternalError(failure);

        Assert.DoesNotContain('\n', message);
        Assert.Contains("ExternalException", message);
        Assert.Contains("Expected false to be true, but got false.", message);
        Assert.DoesNotContain("frame #0", message);
        var trace = Regex.Match(message, @"full trace: (\S+\.txt)").Groups[1].Value;
        try
        {
            Assert.Contains(nameof(An_internal_error_is_one_line_naming_the_failure_and_a_file_with_the_full_trace), File.ReadAllText(trace));
        }
        finally
        {
            File.Delete(trace);
        }
    }
}
