using System.Globalization;
using NotebookTrainer.Checkpoints;
using NotebookTrainer.Models;
using NotebookTrainer.ModelConfigs;
using NotebookTrainer.SafeTensors;
using NotebookTrainer.Tokenizers;
using NotebookTrainer.World;
using static TorchSharp.torch;

namespace NotebookTrainer.Cli.Commands;

/// <summary><c>ntrain model tiny|verify|inspect|load</c>: argument parsing and printing; the work is in NotebookTrainer.Models.</summary>
public static class ModelCommands
{
    public static int Run(string[] args)
    {
        if (args.Length == 0) throw new CliException("missing subcommand: use 'model tiny --out DIR', 'model verify FIXTURE_DIR', 'model inspect MODEL' or 'model load MODEL'.");
        try
        {
            return args[0] switch
            {
                "tiny" => Tiny(args[1..]),
                "verify" => Verify(args[1..]),
                "inspect" => Inspect(args[1..]),
                "load" => Load(args[1..]),
                _ => throw new CliException($"unknown subcommand '{args[0]}': use 'model tiny', 'model verify', 'model inspect' or 'model load'."),
            };
        }
        catch (Exception e) when (e is ModelConfigException or ModelWeightsException or FixtureException or CheckpointFormatException or SafeTensorsFormatException or TokenizerFormatException)
        {
            throw new CliException(e.Message);
        }
    }

    static int Tiny(string[] args)
    {
        var a = new CliArgs(args, ["out", "seed"], ["random"]);
        var path = a.Flag("random") ? TinyStableDiffusion.Write(a.Required("out"), a.Int("seed", 1234)) : World.WorldModel.Install(a.Required("out"));
        Console.WriteLine($"wrote {path} ({new FileInfo(path).Length / 1024.0 / 1024.0:F1} MiB) and {Path.Combine(Path.GetDirectoryName(path)!, TinyStableDiffusion.ConfigFolder)}/");
        return 0;
    }

    /// <summary>Exit 0 when every check is within tolerance, 1 when any is not.</summary>
    static int Verify(string[] args)
    {
        var a = new CliArgs(args, [], []);
        var fixture = a.Positional(0, "a fixture folder (fixture.json, inputs.safetensors, expected.safetensors)");
        var report = ModelVerifier.Run(fixture, (model, config) => StableDiffusion.Load(model, config, ScalarType.Float32),
            new ConsoleProgress(), Ntrain.Cancellation);
        foreach (var c in report.Checks)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{(c.Passed ? "pass" : "FAIL")}  {c.Name} ({c.Component}): max abs error {c.MaxAbsError:G3}, max rel error {c.MaxRelError:G3} (atol {c.Atol:G3}, rtol {c.Rtol:G3})"));
        Console.WriteLine(report.Passed ? $"all {report.Checks.Count} checks passed" : $"{report.Checks.Count(c => !c.Passed)} of {report.Checks.Count} checks FAILED");
        return report.Passed ? 0 : 1;
    }

    /// <summary>What a checkpoint file is, without building the model: format, architecture, keys, hashes.</summary>
    static int Inspect(string[] args)
    {
        var a = new CliArgs(args, ["config"], ["json"]);
        var inspection = ModelInspection.Inspect(a.Positional(0, "a checkpoint path (.safetensors, .ckpt/.pt, or a diffusers folder)"), a.Option("config"), new ConsoleProgress(), Ntrain.Cancellation);
        Console.Write(a.Flag("json") ? inspection.ToJson() + Environment.NewLine : inspection.ToText());
        return 0;
    }

    /// <summary>Builds the model from a checkpoint, as training does, and reports parameters and peak memory.</summary>
    static int Load(string[] args)
    {
        var a = new CliArgs(args, ["config", "dtype"], []);
        var path = a.Positional(0, "a model file or diffusers folder");
        ScalarType dtype = a.Option("dtype") switch
        {
            null or "fp32" or "float" => ScalarType.Float32,
            "fp16" => ScalarType.Float16,
            "bf16" => ScalarType.BFloat16,
            var other => throw new CliException($"--dtype must be fp32, fp16 or bf16, not '{other}'."),
        };
        ProcessMemory.ResetPeak();
        var before = ProcessMemory.ResidentBytes();
        using var model = StableDiffusion.Load(path, a.Option("config"), dtype, progress: new ConsoleProgress(), cancellationToken: Ntrain.Cancellation);
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
        return 0;
    }
}
