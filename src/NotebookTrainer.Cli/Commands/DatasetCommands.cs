using System.Globalization;
using NotebookTrainer.Datasets;
using NotebookTrainer.Datasets.Config;

namespace NotebookTrainer.Cli.Commands;

/// <summary><c>ntrain dataset inspect|sample</c>: argument parsing and printing; the work is in NotebookTrainer.Datasets.</summary>
public static class DatasetCommands
{
    public const string Usage = """
          dataset inspect <dataset_config.toml|.json | folder> [--json] [--resolution N] [--batch-size N]
                  [--caption-extension .txt] [--no-bucket] [--reg-data-dir DIR] [--seed N]
                                       images, captions, buckets, steps per epoch and problems as kohya
                                       would see them (exit 1 when there are errors, 2 on bad arguments)
          dataset sample --out DIR [--seed N] [--count N]
                                       generate the built-in sample dataset (DIR/10_sks shape/*.png + .txt)
        """;

    public static int Run(string[] args)
    {
        if (args.Length < 2) return Fail("missing subcommand: use 'dataset inspect' or 'dataset sample'.");
        try
        {
            return args[1] switch
            {
                "inspect" => Inspect(args[2..]),
                "sample" => Sample(args[2..]),
                _ => Fail($"unknown subcommand 'dataset {args[1]}': use 'dataset inspect' or 'dataset sample'."),
            };
        }
        catch (ArgumentException e)
        {
            return Fail(e.Message);
        }
    }

    static int Fail(string message)
    {
        Console.Error.WriteLine($"ntrain: {message}");
        Console.Error.WriteLine("usage:");
        Console.Error.WriteLine(Usage);
        return 2;
    }

    static int Inspect(string[] args)
    {
        string? target = null;
        var json = false;
        var arguments = new InspectOptions().Arguments;
        string? reg = null;
        var seed = 42;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--json": json = true; break;
                case "--resolution": arguments = arguments with { Resolution = Int(args, ref i) }; break;
                case "--batch-size": arguments = arguments with { BatchSize = Int(args, ref i) }; break;
                case "--caption-extension": arguments = arguments with { CaptionExtension = Value(args, ref i) }; break;
                case "--no-bucket": arguments = arguments with { EnableBucket = false }; break;
                case "--reg-data-dir": reg = Value(args, ref i); break;
                case "--seed": seed = Int(args, ref i); break;
                default:
                    if (args[i].StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"unknown option '{args[i]}' for 'dataset inspect'.");
                    if (target != null) throw new ArgumentException($"give one config file or folder, got '{target}' and '{args[i]}'.");
                    target = args[i];
                    break;
            }
        }
        if (target == null) throw new ArgumentException("'dataset inspect' needs a dataset_config.toml/.json or a folder.");

        var options = new InspectOptions { Arguments = arguments, RegDataDir = reg, Plan = new DatasetPlanOptions { Seed = seed } };
        var report = DatasetInspector.Inspect(target, options);
        if (json)
        {
            Console.WriteLine(report.ToJson());
        }
        else
        {
            foreach (var line in report.LogLines) Console.WriteLine(line);
            foreach (var problem in report.Problems) Console.WriteLine(problem);
            Console.WriteLine(report.Plan == null
                ? $"{report.ErrorCount} error(s): the config could not be loaded."
                : string.Create(CultureInfo.InvariantCulture,
                    $"{report.UsableImages.Count(i => !i.IsReg)} train images ({report.Plan.NumTrainImages} with repeats), {report.Plan.NumRegImages} reg, {report.Plan.BatchesPerEpoch} steps per epoch; {report.ErrorCount} error(s), {report.WarningCount} warning(s)."));
        }
        return report.Plan == null ? 2 : report.ErrorCount > 0 ? 1 : 0;
    }

    static int Sample(string[] args)
    {
        string? output = null;
        var seed = 42;
        int? count = null;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--out": output = Value(args, ref i); break;
                case "--seed": seed = Int(args, ref i); break;
                case "--count": count = Int(args, ref i); break;
                default: throw new ArgumentException($"unknown argument '{args[i]}' for 'dataset sample'.");
            }
        }
        if (output == null) throw new ArgumentException("'dataset sample' needs --out DIR.");
        if (count is < 1) throw new ArgumentException("--count must be at least 1.");
        var images = SampleDataset.Generate(output, seed, count);
        Console.WriteLine($"wrote {images.Count} images with captions to {Path.Combine(Path.GetFullPath(output), SampleDataset.FolderName)}");
        return 0;
    }

    static string Value(string[] args, ref int i)
    {
        if (i + 1 >= args.Length) throw new ArgumentException($"option '{args[i]}' needs a value.");
        return args[++i];
    }

    static int Int(string[] args, ref int i)
    {
        var name = args[i];
        var text = Value(args, ref i);
        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new ArgumentException($"option '{name}' needs an integer, got '{text}'.");
    }
}
