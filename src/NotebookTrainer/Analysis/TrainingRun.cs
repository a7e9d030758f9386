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

    public static TrainingRun Open(string dir)
    {
        var loras = System.IO.Directory.EnumerateFiles(dir, "*.safetensors").Where(IsLora)
            .Select(path => (Epoch: EpochOf(path), Path: path))
            .OrderBy(f => f.Epoch ?? int.MaxValue).ThenBy(f => f.Path, StringComparer.Ordinal).ToList();
        var logs = Path.Combine(dir, "logs");
        var log = System.IO.Directory.Exists(logs)
            ? System.IO.Directory.EnumerateFiles(logs, RunLog.FileName, SearchOption.AllDirectories).OrderByDescending(File.GetLastWriteTimeUtc).FirstOrDefault()
            : null;
        var samples = Path.Combine(dir, "sample");
        return new TrainingRun(dir, log, loras, System.IO.Directory.Exists(samples) ? samples : null);
    }

    /// <summary>The most recently written run under <paramref name="runsDir"/>: a folder holding LoRA files or a logs/…/loss.csv.</summary>
    public static TrainingRun FindLatest(string runsDir)
    {
        if (!System.IO.Directory.Exists(runsDir))
            throw new DirectoryNotFoundException($"{runsDir} does not exist; run notebooks/05-train.ipynb (or ntrain train) first.");
        var candidates = new HashSet<string>(StringComparer.Ordinal);
        foreach (var log in System.IO.Directory.EnumerateFiles(runsDir, RunLog.FileName, SearchOption.AllDirectories))
        {
            var dir = Path.GetDirectoryName(log)!;
            var logs = dir.LastIndexOf(Path.DirectorySeparatorChar + "logs", StringComparison.Ordinal);
            candidates.Add(logs > 0 ? dir[..logs] : dir);
        }
        foreach (var file in System.IO.Directory.EnumerateFiles(runsDir, "*.safetensors", SearchOption.AllDirectories))
            if (IsLora(file)) candidates.Add(Path.GetDirectoryName(file)!);
        var newest = candidates.OrderByDescending(LastWrite).FirstOrDefault()
            ?? throw new FileNotFoundException($"no training run under {runsDir}: no LoRA .safetensors and no logs/<name>/{RunLog.FileName}.");
        return Open(newest);
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
