using System.Text.Json;
using NotebookTrainer.Datasets;
using NotebookTrainer.World;

namespace NotebookTrainer.Tests.Datasets;

/// <summary>Runs the real ntrain executable (copied next to the tests) in a child process and checks exit codes and output.</summary>
public sealed class DatasetCliTests : TempDir
{
    static (int Code, string Out, string Err) Ntrain(params string[] args) => NtrainProcess.Run(args, TimeSpan.FromMinutes(2));

    [Fact]
    public void Sample_then_inspect_json_round_trip()
    {
        var (code, output, _) = Ntrain("dataset", "sample", "--out", Root, "--seed", "3", "--count", "6");
        Assert.Equal(0, code);
        Assert.Contains("wrote 6 images", output);

        var (inspectCode, json, _) = Ntrain("dataset", "inspect", Root, "--json");
        Assert.Equal(0, inspectCode);
        using var doc = JsonDocument.Parse(json);
        Assert.Equal(60, doc.RootElement.GetProperty("totals").GetProperty("train_images_with_repeats").GetInt32());

        var (textCode, text, _) = Ntrain("dataset", "inspect", Root, "--batch-size", "4");
        Assert.Equal(0, textCode);
        Assert.Contains("mean ar error (without repeats)", text);
    }

    [Fact]
    public void Regularization_images_show_only_what_the_base_model_already_draws()
    {
        var (code, output, _) = Ntrain("dataset", "sample", "--out", Root, "--count", "12", "--regularization");
        Assert.Equal(0, code);
        Assert.Contains($"wrote 12 images with captions to {Path.Combine(Root, SampleDataset.RegularizationFolderName)}", output);
        var captions = Directory.GetFiles(Path.Combine(Root, SampleDataset.RegularizationFolderName), "*.txt").Select(File.ReadAllText).ToList();
        Assert.Equal(12, captions.Count);
        Assert.All(captions, c => Assert.DoesNotMatch("purple|heart|sks", c));
        Assert.Equal(4, captions.SelectMany(c => c.Split(", ")).Where(t => t.EndsWith("circle") || t.EndsWith("square") || t.EndsWith("star") || t.EndsWith("triangle"))
            .Select(t => t.Trim().Split(' ')[^1]).Distinct().Count());
    }

    [Fact]
    public void Broken_config_exits_2_naming_line_and_key_without_a_stack_trace()
    {
        var path = Path.Combine(Root, "bad.toml");
        File.WriteAllText(path, "[[datasets]]\nresolution = 512\n[[datasets.subsets]]\nimage_dir = '/x'\nnum_repeats = \"10\"\n");

        var (code, output, error) = Ntrain("dataset", "inspect", path);

        Assert.Equal(2, code);
        Assert.Contains("bad.toml:5: datasets[0].subsets[0].num_repeats: error:", output);
        Assert.Contains("Remove the quotes: num_repeats = 10", output);
        Assert.DoesNotContain("   at ", output + error);
    }

    [Fact]
    public void Bad_files_exit_1_and_bad_arguments_exit_2()
    {
        SampleDataset.Generate(Root, count: 2);
        File.WriteAllBytes(Path.Combine(Root, SampleDataset.FolderName, "zero.png"), []);
        var (code, output, _) = Ntrain("dataset", "inspect", Root);
        Assert.Equal(1, code);
        Assert.Contains("zero.png: error: empty file", output);

        var (badOption, _, err) = Ntrain("dataset", "inspect", Root, "--resolutoin", "512");
        Assert.Equal(2, badOption);
        Assert.Contains("Unrecognized command or argument '--resolutoin'. Did you mean --resolution?", err);
        Assert.Equal(2, Ntrain("dataset", "sample").Code);
        Assert.Equal(2, Ntrain("dataset", "inspect", Path.Combine(Root, "nope")).Code);
    }
}
