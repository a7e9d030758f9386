using NotebookTrainer.Configuration;
using NotebookTrainer.Datasets.Config;
using NotebookTrainer.Images;
using NotebookTrainer.Progress;

namespace NotebookTrainer.Datasets;

/// <summary>How to read a folder without a config file (kohya's command-line defaults as the Colabs set them).</summary>
public sealed record InspectOptions
{
    public DatasetArguments Arguments { get; init; } = new() { Resolution = 512, EnableBucket = true, CaptionExtension = ".txt" };
    public string? RegDataDir { get; init; }
    public DatasetPlanOptions Plan { get; init; } = new();
}

/// <summary>Loads a dataset config file or a folder, reads every image header and caption, and reports what kohya would train on.</summary>
public static class DatasetInspector
{
    public static DatasetReport Inspect(string configOrFolder, InspectOptions? options = null,
        IProgress<ProgressUpdate>? progress = null, CancellationToken cancellationToken = default)
    {
        options ??= new InspectOptions();
        string kind;
        DatasetConfig config;
        try
        {
            (kind, config) = Load(configOrFolder, options);
        }
        catch (ConfigException e)
        {
            return new DatasetReport(configOrFolder, Directory.Exists(configOrFolder) ? "folders" : "config", null, e.Problems);
        }
        var plan = DatasetPlan.Build(config, options.Plan, progress, cancellationToken);
        return new DatasetReport(configOrFolder, kind, plan, []);
    }

    /// <summary>
    /// A file is a dataset config. A folder with <c>N_name</c> subfolders is kohya's legacy layout; a folder holding
    /// images itself is read as one subset with 1 repeat (kohya needs the subfolder; we say so in a warning).
    /// </summary>
    static (string Kind, DatasetConfig Config) Load(string path, InspectOptions options)
    {
        if (File.Exists(path)) return ("config", DatasetConfig.Load(path, options.Arguments));
        if (!Directory.Exists(path))
            throw new ConfigException([DatasetProblem.Error(path, "no such file or folder; give a dataset_config.toml/.json or a train_data_dir folder.")]);

        var hasRepeatFolders = Directory.GetDirectories(path).Any(d => LegacyFolders.ParseFolderName(Path.GetFileName(d)) != null);
        var hasImages = Directory.EnumerateFiles(path).Any(ImageExtensions.IsImage);
        if (hasRepeatFolders || !hasImages) return ("folders", DatasetConfig.FromFolders(path, options.RegDataDir, options.Arguments));

        var folderConfig = DatasetConfig.FromFolders(path, options.RegDataDir, options.Arguments);
        var dataset = folderConfig.Datasets[0];
        var subset = new SubsetOptions
        {
            ImageDir = Path.GetFullPath(path),
            NumRepeats = 1,
            CaptionExtension = options.Arguments.CaptionExtension ?? DatasetDefaults.CaptionExtension,
            ClassTokens = null,
            KeyPath = Path.GetFileName(Path.GetFullPath(path).TrimEnd(Path.DirectorySeparatorChar)),
        };
        var warning = DatasetProblem.Warning(path, $"images are directly in this folder; kohya's train_data_dir expects subfolders named '<repeats>_<class tokens>' (e.g. '10_{subset.KeyPath}'). Read here as one subset with 1 repeat.");
        return ("folder", folderConfig with
        {
            Datasets = [dataset with { Subsets = [subset, .. dataset.Subsets] }],
            Warnings = [warning, .. folderConfig.Warnings],
        });
    }
}
