using System.Text.RegularExpressions;
using NotebookTrainer.Sampling;

namespace NotebookTrainer.Training;

/// <summary>
/// The layout of a training run, as kohya's scripts name it: in output_dir the saves
/// (<c>{output_name}-{epoch:06d}.safetensors</c>, <c>{output_name}-step{step:08d}.safetensors</c>, <c>{output_name}.safetensors</c>;
/// no extension for a diffusers folder), the save_state folders (the same names plus <c>-state</c>), <c>sample/</c>
/// and our <c>run/</c> record of the exact configs; in logging_dir, <c>{log_prefix}{output_name}/loss.csv</c> and
/// <c>validation.csv</c>. The trainer writes through it and Analysis reads through it.
/// </summary>
public sealed partial record RunFolder(string OutputDir, string OutputName, string OutputExtension = ".safetensors")
{
    public const string LossLogFile = "loss.csv";
    public const string ValidationLogFile = "validation.csv";
    const string RecordFolderName = "run";
    public const string RecordedConfigFile = "training.toml";
    const string StateSuffix = "-state";

    /// <summary>The run of a training config: its output_dir (absolute) and output_name.</summary>
    public static RunFolder Of(TrainingConfig config, string outputExtension = ".safetensors") =>
        new(Path.GetFullPath(config.OutputDir), config.OutputName, outputExtension);

    public string EpochOutput(int epoch) => Path.Combine(OutputDir, $"{OutputName}-{epoch:D6}{OutputExtension}");
    public string StepOutput(int step) => Path.Combine(OutputDir, $"{OutputName}-step{step:D8}{OutputExtension}");
    public string FinalOutput => Path.Combine(OutputDir, OutputName + OutputExtension);

    public string EpochState(int epoch) => Path.Combine(OutputDir, $"{OutputName}-{epoch:D6}{StateSuffix}");
    public string StepState(int step) => Path.Combine(OutputDir, $"{OutputName}-step{step:D8}{StateSuffix}");
    /// <summary>Where a cancelled run leaves its resumable state, named after the epoch it stopped in.</summary>
    public string InterruptedState(int epoch) => EpochState(epoch) + "-interrupted";

    public string SampleDir => SampleDirOf(OutputDir);
    public string RecordDir => RecordDirOf(OutputDir);
    public string LatentCacheDir => Path.Combine(OutputDir, "latent_cache");

    /// <summary><c>{logging_dir}/{log_prefix}{output_name}</c>; logging_dir defaults to <c>{output_dir}/logs</c>.</summary>
    public string LogDir(string? loggingDir, string? logPrefix) =>
        Path.Combine(loggingDir is { } dir ? Path.GetFullPath(dir) : Path.Combine(OutputDir, "logs"), (logPrefix ?? "") + OutputName);

    public static string SampleDirOf(string outputDir) => Path.Combine(outputDir, SampleFileName.Folder);
    public static string RecordDirOf(string outputDir) => Path.Combine(outputDir, RecordFolderName);
    public static string RecordedConfigOf(string outputDir) => Path.Combine(RecordDirOf(outputDir), RecordedConfigFile);

    /// <summary>The epoch of a per-epoch save or state (<c>name-000003</c>), null for the final save.</summary>
    public static int? EpochOf(string path) => EpochSuffix().Match(Path.GetFileNameWithoutExtension(path)) is { Success: true } m ? int.Parse(m.Groups[1].Value) : null;

    /// <summary>Whether a save was made every n steps (<c>name-step00000400</c>) rather than per epoch or at the end.</summary>
    public static bool IsStepSave(string path) => StepSuffix().IsMatch(Path.GetFileNameWithoutExtension(path));

    /// <summary>The output name of a save, without its epoch or step suffix.</summary>
    public static string OutputNameOf(string path) => StepSuffix().Replace(EpochSuffix().Replace(Path.GetFileNameWithoutExtension(path), ""), "");

    /// <summary>Whether a folder is a save_state folder (per epoch, per step or interrupted).</summary>
    public static bool IsStateFolder(string path) => Path.GetFileName(path).Contains(StateSuffix, StringComparison.Ordinal);

    [GeneratedRegex(@"-(\d{6})$")]
    private static partial Regex EpochSuffix();

    [GeneratedRegex(@"-step\d{8}$")]
    private static partial Regex StepSuffix();
}
