using System.Globalization;
using NotebookTrainer.Datasets;
using NotebookTrainer.World;

namespace NotebookTrainer.Cli.Commands;

/// <summary><c>ntrain dataset inspect|sample</c>: argument parsing and printing; the work is in NotebookTrainer.Datasets.</summary>
public static class DatasetCommands
{
    public static int Run(string[] args)
    {
        if (args.Length == 0) throw new CliException("missing subcommand: use 'dataset inspect <config|folder>' or 'dataset sample --out DIR'.");
        return args[0] switch
        {
            "inspect" => Inspect(args[1..]),
            "sample" => Sample(args[1..]),
            _ => throw new CliException($"unknown subcommand '{args[0]}': use 'dataset inspect' or 'dataset sample'."),
        };
    }

    /// <summary>Exit 0 when trainable without errors, 1 when some files or subsets have errors, 2 when the config cannot be loaded.</summary>
    static int Inspect(string[] args)
    {
        var a = new CliArgs(args, ["resolution", "batch-size", "caption-extension", "reg-data-dir", "seed"], ["json", "no-bucket"]);
        var target = a.Positional(0, "a dataset_config.toml/.json or a folder");
        if (a.Positionals.Count > 1) throw new CliException($"give one config file or folder, got {a.Positionals.Count}: {string.Join(", ", a.Positionals)}.");
        var defaults = new InspectOptions().Arguments;
        var options = new InspectOptions
        {
            Arguments = defaults with
            {
                Resolution = a.Int("resolution", defaults.Resolution!.Value),
                BatchSize = a.Option("batch-size") is null ? null : a.Int("batch-size", 1),
                CaptionExtension = a.Option("caption-extension") ?? defaults.CaptionExtension,
                EnableBucket = !a.Flag("no-bucket"),
            },
            RegDataDir = a.Option("reg-data-dir"),
            Plan = new DatasetPlanOptions { Seed = a.Int("seed", 42) },
        };

        var report = DatasetInspector.Inspect(target, options, cancellationToken: Ntrain.Cancellation);
        if (a.Flag("json"))
        {
            Console.WriteLine(report.ToJson());
        }
        else
        {
            foreach (var line in report.LogLines) Console.WriteLine(line);
            foreach (var problem in report.Problems) Console.WriteLine(problem);
            Console.WriteLine(report.Plan == null
                ? $"{report.ErrorCount} error(s): the dataset could not be loaded."
                : string.Create(CultureInfo.InvariantCulture,
                    $"{report.UsableImages.Count(i => !i.IsReg)} train images ({report.Plan.NumTrainImages} with repeats), {report.Plan.NumRegImages} reg with repeats, {report.Plan.BatchesPerEpoch} steps per epoch; {report.ErrorCount} error(s), {report.WarningCount} warning(s)."));
        }
        return report.Plan == null ? 2 : report.ErrorCount > 0 ? 1 : 0;
    }

    static int Sample(string[] args)
    {
        var a = new CliArgs(args, ["out", "seed", "count"], ["regularization"]);
        var output = a.Required("out");
        var count = a.Option("count") is null ? (int?)null : a.Int("count", SampleDataset.DefaultCount);
        if (count is < 1) throw new CliException("--count must be at least 1.");
        var regularization = a.Flag("regularization");
        var images = regularization
            ? SampleDataset.GenerateRegularization(output, a.Int("seed", 43), count ?? SampleDataset.DefaultCount)
            : SampleDataset.Generate(output, a.Int("seed", 42), count);
        var folder = regularization ? SampleDataset.RegularizationFolderName : SampleDataset.FolderName;
        Console.WriteLine($"wrote {images.Count} images with captions to {Path.Combine(Path.GetFullPath(output), folder)}");
        return 0;
    }
}
