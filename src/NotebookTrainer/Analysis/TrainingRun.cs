using System.Text.RegularExpressions;
using NotebookTrainer.SafeTensors;

namespace NotebookTrainer.Analysis;

/// <summary>
/// A training output folder as the trainer leaves it: LoRA files (<c>{name}-{epoch:06d}.safetensors</c> and the
/// final <c>{name}.safetensors</c>), <c>logs/{name}/loss.csv</c> and <c>sample/</c>.
/// </summary>
public sealed partial record TrainingRun(string Directory, string? LogPath, IReadOnlyList<(int? Epoch, string Path)> LoraFiles, string? SampleDir)
{
    /// <summary>The final LoRA (no epoch number), else the last epoch's.</summary>
    public string? FinalLora => LoraFiles.Count == 0 ? null : LoraFiles.FirstOrDefault(f => f.Epoch is null).Path ?? LoraFiles[^1].Path;

    /// <summary>The config the trainer wrote to <c>run/training.toml</c> when the run started (null for runs without one).</summary>
    public Training.TrainingConfig? RecordedConfig =>
        File.Exists(Path.Combine(Directory, "run", "training.toml")) ? Training.TrainingConfig.Load(Path.Combine(Directory, "run", "training.toml")) : null;

    /// <summary>The text of each line of the run's sample_prompts file, for labelling sample grids (empty when unknown).</summary>
    public IReadOnlyList<string> SamplePromptTexts =>
        RecordedConfig?.SamplePrompts is { } file && File.Exists(file) ? Sampling.SamplePromptFile.Load(file).Prompts.Select(p => p.Prompt).ToList() : [];

    /// <param name="logSearchRoot">
    /// Where to look for the log when <c>{dir}/logs</c> has none (logging_dir may sit outside output_dir): the newest
    /// loss.csv below it in a folder whose name ends with the LoRA's output name.
    /// </param>
    public static TrainingRun Open(string dir, string? logSearchRoot = null)
    {
        var loras = System.IO.Directory.EnumerateFiles(dir, "*.safetensors").Where(IsLora)
            .Select(path => (Epoch: EpochOf(path), Path: path))
            .OrderBy(f => f.Epoch ?? int.MaxValue).ThenBy(f => f.Path, StringComparer.Ordinal).ToList();
        var log = NewestLog(Path.Combine(dir, "logs"), _ => true);
        if (log is null && logSearchRoot is not null && loras.Count > 0)
        {
            var outputName = EpochSuffix().Replace(Path.GetFileNameWithoutExtension(loras[^1].Path), "");
            log = NewestLog(logSearchRoot, folder => Path.GetFileName(folder).EndsWith(outputName, StringComparison.Ordinal));
        }
        var samples = Path.Combine(dir, "sample");
        return new TrainingRun(dir, log, loras, System.IO.Directory.Exists(samples) ? samples : null);
    }

    static string? NewestLog(string root, Func<string, bool> folderMatches) => System.IO.Directory.Exists(root)
        ? System.IO.Directory.EnumerateFiles(root, RunLog.FileName, SearchOption.AllDirectories)
            .Where(f => folderMatches(Path.GetDirectoryName(f)!)).OrderByDescending(File.GetLastWriteTimeUtc).FirstOrDefault()
        : null;

    /// <summary>The most recently written run under <paramref name="runsDir"/>: a folder holding LoRA files or a logs/…/loss.csv.</summary>
    public static TrainingRun FindLatest(string runsDir)
    {
        if (!System.IO.Directory.Exists(runsDir))
            throw new DirectoryNotFoundException($"{runsDir} does not exist; run notebooks/05-train.ipynb (or ntrain train) first.");
        // A folder with LoRA files is the run; a log folder alone counts only when no LoRA was saved yet.
        var loraDirs = System.IO.Directory.EnumerateFiles(runsDir, "*.safetensors", SearchOption.AllDirectories)
            .Where(IsLora).Select(f => Path.GetDirectoryName(f)!).Distinct().ToList();
        if (loraDirs.Count > 0)
            return Open(loraDirs.OrderByDescending(LastWrite).First(), runsDir);
        var log = NewestLog(runsDir, _ => true)
            ?? throw new FileNotFoundException($"no training run under {runsDir}: no LoRA .safetensors and no logs/<name>/{RunLog.FileName}.");
        var logFolder = Path.GetDirectoryName(log)!;
        var logs = logFolder.LastIndexOf(Path.DirectorySeparatorChar + "logs", StringComparison.Ordinal);
        return Open(logs > 0 ? logFolder[..logs] : logFolder) with { LogPath = log };
    }

    static DateTime LastWrite(string dir) =>
        System.IO.Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Select(File.GetLastWriteTimeUtc).DefaultIfEmpty(DateTime.MinValue).Max();

    static bool IsLora(string path)
    {
        try
        {
            using var file = SafeTensorsFile.Open(path);
            return file.Names.Any(n => n.StartsWith("lora_", StringComparison.Ordinal));
        }
        catch (Exception e) when (e is SafeTensorsFormatException or IOException)
        {
            return false;
        }
    }

    static int? EpochOf(string path) => EpochSuffix().Match(Path.GetFileNameWithoutExtension(path)) is { Success: true } m ? int.Parse(m.Groups[1].Value) : null;

    [GeneratedRegex(@"-(\d{6})$")]
    private static partial Regex EpochSuffix();
}
