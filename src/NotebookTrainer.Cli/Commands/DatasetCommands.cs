using System.CommandLine;
using System.Globalization;
using NotebookTrainer.Datasets;
using NotebookTrainer.World;

using static NotebookTrainer.Cli.CliOptions;

namespace NotebookTrainer.Cli.Commands;

/// <summary><c>ntrain dataset inspect|sample</c>: options and printing; the work is in NotebookTrainer.Datasets.</summary>
public static class DatasetCommands
{
    public static Command Dataset() => new("dataset", "Inspect a dataset, or generate the built-in sample one") { Inspect(), Sample() };

    /// <summary>Exit 0 when trainable without errors, 1 when some files or subsets have errors, 2 when the config cannot be loaded.</summary>
    static Command Inspect()
    {
        var defaults = new InspectOptions().Arguments;
        var target = new Argument<string>("config|folder") { Description = "a dataset_config.toml/.json or a folder" };
        var resolution = NumberOptions.Whole("--resolution", defaults.Resolution!.Value, "training resolution (a folder's, or the config's default)");
        var batchSize = NumberOptions.OptionalWhole("--batch-size", "batch size (default: the config's)");
        var captionExtension = new Option<string?>("--caption-extension") { Description = $"caption file extension (default {defaults.CaptionExtension})", HelpName = "EXT" };
        var regDataDir = new Option<string?>("--reg-data-dir") { Description = "a folder of regularization images", HelpName = "DIR" };
        var seed = NumberOptions.Whole("--seed", 42, "the shuffle seed of the epoch plan");
        var noBucket = Flag("--no-bucket", "no aspect-ratio buckets");
        var json = Json();
        var command = new Command("inspect", "Images, captions, buckets, steps per epoch and problems")
            { target, resolution, batchSize, captionExtension, regDataDir, seed, noBucket, json };
        command.SetAction(parse =>
        {
            var options = new InspectOptions
            {
                Arguments = defaults with
                {
                    Resolution = parse.GetValue(resolution),
                    BatchSize = parse.GetValue(batchSize),
                    CaptionExtension = parse.GetValue(captionExtension) ?? defaults.CaptionExtension,
                    EnableBucket = !parse.GetValue(noBucket),
                },
                RegDataDir = parse.GetValue(regDataDir),
                Plan = new DatasetPlanOptions { Seed = parse.GetValue(seed) },
            };

            var report = DatasetInspector.Inspect(parse.GetRequiredValue(target), options, cancellationToken: Ntrain.Cancellation);
            if (parse.GetValue(json))
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
        });
        return command;
    }

    static Command Sample()
    {
        var output = new Option<string>("--out") { Description = "the folder to write into", HelpName = "DIR", Required = true };
        var seed = NumberOptions.OptionalWhole("--seed", "random seed (default 42, or 43 with --regularization)");
        var count = NumberOptions.OptionalWhole("--count", $"how many images (default {SampleDataset.DefaultCount})", min: 1);
        var regularization = Flag("--regularization", "DreamBooth reg images of what the base model already draws (1_shape)");
        var command = new Command("sample", "Generate the built-in sample dataset (purple hearts, 10_sks heart) or its regularization images")
            { output, seed, count, regularization };
        command.SetAction(parse =>
        {
            var folder = parse.GetRequiredValue(output);
            var images = parse.GetValue(regularization)
                ? SampleDataset.GenerateRegularization(folder, parse.GetValue(seed) ?? 43, parse.GetValue(count) ?? SampleDataset.DefaultCount)
                : SampleDataset.Generate(folder, parse.GetValue(seed) ?? 42, parse.GetValue(count));
            var written = parse.GetValue(regularization) ? SampleDataset.RegularizationFolderName : SampleDataset.FolderName;
            Console.WriteLine($"wrote {images.Count} images with captions to {Path.Combine(Path.GetFullPath(folder), written)}");
        });
        return command;
    }
}
