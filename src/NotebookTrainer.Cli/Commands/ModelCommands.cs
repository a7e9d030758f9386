using System.CommandLine;
using System.Globalization;
using NotebookTrainer.Checkpoints;
using NotebookTrainer.Models;
using NotebookTrainer.World;
using static TorchSharp.torch;

using static NotebookTrainer.Cli.CliOptions;

namespace NotebookTrainer.Cli.Commands;

/// <summary><c>ntrain model tiny|verify|inspect|load</c>: options and printing; the work is in NotebookTrainer.Models.</summary>
public static class ModelCommands
{
    public static Command Model() => new("model", "The embedded tiny model, reference checks, and what a checkpoint holds") { Tiny(), Verify(), Inspect(), Load() };

    static Command Tiny()
    {
        var output = new Option<string>("--out") { Description = "the folder to write into", HelpName = "DIR", Required = true };
        var random = Flag("--random", "write one with random weights instead");
        var seed = NumberOptions.Whole("--seed", 1234, "the random weights' seed");
        var command = new Command("tiny", "Copy out the embedded tiny SD model (single file + config/ + tokenizer/), or write one with random weights")
            { output, random, seed };
        command.SetAction(parse =>
        {
            var folder = parse.GetRequiredValue(output);
            var path = parse.GetValue(random) ? TinyStableDiffusion.Write(folder, parse.GetValue(seed)) : WorldModel.Install(folder);
            Console.WriteLine($"wrote {path} ({new FileInfo(path).Length / 1024.0 / 1024.0:F1} MiB) and {Path.Combine(Path.GetDirectoryName(path)!, TinyStableDiffusion.ConfigFolder)}/");
        });
        return command;
    }

    /// <summary>Exit 0 when every check is within tolerance, 1 when any is not.</summary>
    static Command Verify()
    {
        var fixture = new Argument<string>("fixture-dir") { Description = "a fixture folder (fixture.json, inputs.safetensors, expected.safetensors)" };
        var command = new Command("verify", "Compare our modules with reference outputs (exit 1 on mismatch)") { fixture };
        command.SetAction(parse =>
        {
            var report = ModelVerifier.Run(parse.GetRequiredValue(fixture), (model, config) => StableDiffusion.Load(model, config, ScalarType.Float32),
                new ConsoleProgress(), Ntrain.Cancellation);
            foreach (var c in report.Checks)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{(c.Passed ? "pass" : "FAIL")}  {c.Name} ({c.Component}): max abs error {c.MaxAbsError:G3}, max rel error {c.MaxRelError:G3} (atol {c.Atol:G3}, rtol {c.Rtol:G3})"));
            Console.WriteLine(report.Passed ? $"all {report.Checks.Count} checks passed" : $"{report.Checks.Count(c => !c.Passed)} of {report.Checks.Count} checks FAILED");
            return report.Passed ? 0 : 1;
        });
        return command;
    }

    static Option<string?> ConfigFolder() => new("--config") { Description = "the model's config folder, for a single file", HelpName = "DIR" };

    /// <summary>What a checkpoint file is, without building the model: format, architecture, keys, hashes.</summary>
    static Command Inspect()
    {
        var path = new Argument<string>("path") { Description = "a checkpoint (.safetensors, .ckpt/.pt, or a diffusers folder)" };
        var config = ConfigFolder();
        var json = Json();
        var command = new Command("inspect", "Format, architecture, dtypes, parameters, missing keys and hashes of a checkpoint") { path, config, json };
        command.SetAction(parse =>
        {
            var inspection = ModelInspection.Inspect(parse.GetRequiredValue(path), parse.GetValue(config), new ConsoleProgress(), Ntrain.Cancellation);
            Console.Write(parse.GetValue(json) ? inspection.ToJson() + Environment.NewLine : inspection.ToText());
        });
        return command;
    }

    /// <summary>Builds the model from a checkpoint, as training does, and reports parameters and peak memory.</summary>
    static Command Load()
    {
        var path = new Argument<string>("model") { Description = "a model file or diffusers folder" };
        var config = ConfigFolder();
        var dtype = new Option<string>("--dtype") { Description = "weights' precision: fp32, fp16 or bf16", HelpName = "fp32|fp16|bf16", DefaultValueFactory = _ => "fp32" };
        var command = new Command("load", "Build the model as training does; parameters, dtype, peak memory") { path, config, dtype };
        command.SetAction(parse =>
        {
            ScalarType scalarType = parse.GetRequiredValue(dtype) switch
            {
                "fp32" or "float" => ScalarType.Float32,
                "fp16" => ScalarType.Float16,
                "bf16" => ScalarType.BFloat16,
                var other => throw new CliException($"--dtype must be fp32, fp16 or bf16, not '{other}'."),
            };
            ProcessMemory.ResetPeak();
            var before = ProcessMemory.ResidentBytes();
            using var model = StableDiffusion.Load(parse.GetRequiredValue(path), parse.GetValue(config), scalarType, progress: new ConsoleProgress(), cancellationToken: Ntrain.Cancellation);
            var peak = ProcessMemory.PeakResidentBytes();
            foreach (var (name, module) in new (string, nn.Module)[] { ("unet", model.Unet), ("vae", model.Vae), ("text_encoder", model.TextEncoder) })
            {
                var parameters = module.parameters().ToList();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{name,-13} {parameters.Sum(p => p.numel()) / 1e6,9:F2}M parameters, {module.state_dict().Count} keys, {parameters[0].dtype}"));
            }
            Console.WriteLine($"prediction: {model.Scheduler.PredictionType}; tokenizer: {model.TokenizerDir ?? "none with the model"}");
            if (before is { } b && peak is { } p)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"peak resident memory while loading: +{(p - b) / 1024.0 / 1024.0:F0} MiB ({p / 1024.0 / 1024.0:F0} MiB total)"));
        });
        return command;
    }
}
