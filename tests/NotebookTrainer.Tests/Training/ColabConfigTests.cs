using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.RegularExpressions;
using NotebookTrainer.SafeTensors;

namespace NotebookTrainer.Tests.Training;

/// <summary>
/// The training TOML the kohya Colabs write (Fixtures/hs.toml: hollowstrawberry's Lora Trainer; Fixtures/lq.toml:
/// Linaqruf's kohya-LoRA-trainer), with only paths, the base model and the run length changed, through the real
/// <c>ntrain train</c> in a child process.
/// </summary>
public sealed class ColabConfigTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("nt-colab-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    static string Fixture(string name, [CallerFilePath] string here = "") => Path.Combine(Path.GetDirectoryName(here)!, "Fixtures", name);

    static (int ExitCode, string Output) Ntrain(params string[] args)
    {
        var (code, stdout, stderr) = NtrainProcess.Run(args, TimeSpan.FromMinutes(3));
        return (code, stdout + stderr);
    }

    /// <summary>
    /// The fixture with each key in <paramref name="values"/> set to the given TOML value (null: line removed) and
    /// <paramref name="topLevel"/> lines put before the first section.
    /// </summary>
    static string Rewrite(string fixture, IReadOnlyDictionary<string, string?> values, params string[] topLevel)
    {
        var lines = File.ReadAllLines(Fixture(fixture)).Select(line =>
        {
            var key = Regex.Match(line, @"^\s*(\w+)\s*=");
            if (!key.Success || !values.TryGetValue(key.Groups[1].Value, out var value)) return line;
            return value is null ? null : $"{key.Groups[1].Value} = {value}";
        }).Where(l => l is not null);
        return string.Join("\n", topLevel.Concat(lines!)) + "\n";
    }

    string SampleData()
    {
        var data = Path.Combine(root, "data");
        var (code, output) = Ntrain("dataset", "sample", "--out", data);
        Assert.True(code == 0, output);
        return data;
    }

    static string Q(string path) => JsonSerializer.Serialize(path);

    /// <summary>Trains <paramref name="fixture"/> for 2 steps on the tiny model and the sample data through ntrain.</summary>
    (string Log, string Output) TrainTwoSteps(string fixture, Dictionary<string, string?> values)
    {
        var data = SampleData();
        var output = Path.Combine(root, "out");
        values["pretrained_model_name_or_path"] = Q("embedded:tiny");
        values["output_dir"] = Q(output);
        values["logging_dir"] = Q(Path.Combine(root, "logs"));
        values["max_train_epochs"] = null;
        var config = Path.Combine(root, fixture);
        File.WriteAllText(config, Rewrite(fixture, values, $"train_data_dir = {Q(data)}", "resolution = 64", "caption_extension = \".txt\"", "max_train_steps = 2"));
        var (code, log) = Ntrain("train", "--config", config);
        Assert.True(code == 0, log);
        Assert.Contains("done: 2 steps", log);
        return (log, output);
    }

    [Fact]
    public void Hollowstrawberry_colab_config_trains_on_the_tiny_model()
    {
        var (log, output) = TrainTwoSteps("hs.toml", new());

        Assert.Contains("xformers is ignored", log);
        using var lora = SafeTensorsFile.Open(Path.Combine(output, "proj.safetensors"));
        Assert.Equal("16", lora.Metadata["ss_network_dim"]);
        Assert.Equal("2", lora.Metadata["ss_clip_skip"]);
        Assert.Equal("42", lora.Metadata["ss_seed"]);
    }

    [Fact]
    public void Linaqruf_colab_config_trains_on_the_tiny_model_with_its_separate_vae()
    {
        var vae = Path.Combine(root, "anime.vae.pt");
        TinyVaeFiles.WritePickle(vae).Dispose();
        var (log, output) = TrainTwoSteps("lq.toml", new() { ["vae"] = Q(vae) });

        Assert.Contains("max_data_loader_n_workers is ignored", log);
        using var lora = SafeTensorsFile.Open(Path.Combine(output, "x.safetensors"));
        Assert.Equal("anime.vae.pt", lora.Metadata["ss_vae_name"]);
        Assert.Equal("x", lora.Metadata["ss_training_comment"]);
    }

    [Fact]
    public void A_refused_setting_stops_ntrain_with_file_line_key_and_fix()
    {
        var config = Path.Combine(root, "lq.toml");
        File.WriteAllText(config, Rewrite("lq.toml", new Dictionary<string, string?> { ["debug_dataset"] = "true" }));

        var (code, log) = Ntrain("train", "--config", config);

        Assert.Equal(2, code);
        var line = File.ReadAllLines(config).ToList().FindIndex(l => l.StartsWith("debug_dataset")) + 1;
        Assert.Contains($"lq.toml:{line}: debug_dataset: error: debug_dataset = true is not supported", log);
        Assert.Contains("remove debug_dataset or set it to false", log);
        Assert.DoesNotContain("   at ", log);
    }
}
