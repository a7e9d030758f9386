using NotebookTrainer.Datasets;
using NotebookTrainer.Datasets.Config;
using NotebookTrainer.Progress;

namespace NotebookTrainer.Training;

/// <summary>The dataset a training config names: dataset_config, or kohya's folder layout under train_data_dir / reg_data_dir.</summary>
public static class TrainingDataset
{
    /// <param name="datasetConfig">Overrides the config's dataset_config (the CLI's --dataset-config).</param>
    public static DatasetPlan Build(TrainingConfig config, string? datasetConfig = null, IProgress<ProgressUpdate>? progress = null, CancellationToken cancellationToken = default)
    {
        // Training arguments are the fallback for values the dataset file leaves out, as in kohya.
        var arguments = config.DatasetArguments with { Resolution = config.Resolution?.Width, BatchSize = config.TrainBatchSize };
        var file = datasetConfig ?? config.DatasetConfig;
        DatasetConfig dataset;
        if (file is not null)
        {
            if (!File.Exists(file)) throw new TrainingException($"dataset_config: {Path.GetFullPath(file)} does not exist.");
            dataset = DatasetConfig.Load(file, arguments);
        }
        else
        {
            if (config.TrainDataDir is not { } train || !Directory.Exists(train))
                throw new TrainingException($"train_data_dir: {config.TrainDataDir} is not a folder; it should hold subfolders named <repeats>_<class tokens>.");
            dataset = DatasetConfig.FromFolders(train, config.RegDataDir, arguments);
        }
        var plan = DatasetPlan.Build(dataset, new DatasetPlanOptions { Seed = config.Seed, PriorLossWeight = (float)config.PriorLossWeight }, progress, cancellationToken);
        var errors = plan.Problems.Where(p => p.IsError).ToList();
        if (errors.Count > 0) throw new TrainingException("the dataset has errors:" + Environment.NewLine + string.Join(Environment.NewLine, errors.Select(e => "  " + e)));
        return plan;
    }
}
