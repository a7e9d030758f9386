using NotebookTrainer.Datasets;
using NotebookTrainer.IO;
using NotebookTrainer.World;

namespace NotebookTrainer.Training;

/// <summary>
/// The knobs notebook 05 shows (method, epochs, network rank, learning rate, v_pred_like_loss) and the run layout it
/// trains into. <see cref="Write"/> applies them to a training config and writes it as <c>&lt;runDir&gt;/training.toml</c>.
/// </summary>
public sealed record TrainingChoices(string Method, int Epochs, int NetworkDim, double? LearningRate = null, double VPredLikeLoss = 0)
{
    /// <summary>
    /// Reads <paramref name="trainingConfig"/> (the template in <paramref name="templatesDir"/> when 01 has not written
    /// one) and points it at <paramref name="datasetConfig"/> — or, when 04 has not written that, at the sample set in
    /// the same folder, drawn if missing. Outputs (every epoch), logs and samples (about four rows of them) go under <paramref name="runDir"/>.
    /// Returns the config as reloaded from the written file.
    /// </summary>
    public TrainingConfig Write(string trainingConfig, string datasetConfig, string runDir, string templatesDir)
    {
        var config = TrainingConfig.Load(File.Exists(trainingConfig) ? trainingConfig : Path.Combine(templatesDir, "training.toml"));
        if (File.Exists(datasetConfig))
            config.DatasetConfig = Path.GetFullPath(datasetConfig);
        else
        {
            var dataDir = Path.GetDirectoryName(Path.GetFullPath(datasetConfig))!;
            if (!Directory.Exists(Path.Combine(dataDir, SampleDataset.FolderName))) SampleDataset.Generate(dataDir);
            (config.DatasetConfig, config.TrainDataDir, config.Resolution) = (null, dataDir, (128, 128));
            config.DatasetArguments = config.DatasetArguments with { CaptionExtension = ".txt" };
        }
        config.MaxTrainEpochs = Epochs;
        (config.NetworkDim, config.NetworkAlpha) = (NetworkDim, NetworkDim);
        if (VPredLikeLoss > 0) (config.VPredLikeLoss, config.MinSnrGamma) = (VPredLikeLoss, null);
        config.LearningRate = LearningRate ?? MethodChoice.LearningRate(Method);
        (config.UnetLr, config.TextEncoderLr) = (config.LearningRate, config.LearningRate / 2);
        // Every epoch is saved (06 judges the last ones); about four rows of samples keep 05 within its few minutes.
        (config.SaveEveryNEpochs, config.SampleEveryNEpochs) = (1, Math.Max(1, Epochs / 4));
        config.SamplePrompts = Path.GetFullPath(Path.Combine(templatesDir, "sample_prompts.txt"));
        config.OutputDir = Path.GetFullPath(Path.Combine(runDir, "output"));
        config.OutputName = "sample_" + Method.Replace('-', '_');
        config.LoggingDir = Path.GetFullPath(Path.Combine(runDir, "logs"));
        MethodChoice.Apply(Method, config);
        var path = Path.Combine(runDir, "training.toml");
        AtomicFile.WriteAllText(path, config.ToToml());
        return TrainingConfig.Load(path);
    }
}
