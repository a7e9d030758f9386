using NotebookTrainer.SafeTensors;
using NotebookTrainer.Training;

namespace NotebookTrainer.Analysis;

/// <summary>What a training method writes: a LoRA-family file, a full checkpoint (single file or diffusers folder) or a Textual Inversion embedding.</summary>
public enum TrainedOutputKind
{
    Lora,
    Checkpoint,
    Embedding,
}

/// <summary>One saved output of a run: per epoch (<c>{name}-{epoch:06d}</c>) or the final one (<see cref="Epoch"/> null).</summary>
public sealed record TrainedOutput(int? Epoch, string Path, TrainedOutputKind Kind)
{
    /// <summary>"epoch 3" or "final".</summary>
    public string Label => Epoch is { } e ? $"epoch {e}" : "final";
}

/// <summary>
/// A training output folder as the trainer leaves it: the outputs of its method (<c>{name}-{epoch:06d}</c> and the
/// final <c>{name}</c>: LoRA files, checkpoints or diffusers folders, or embeddings), <c>logs/{name}/loss.csv</c>
/// and <c>sample/</c>. Step saves (<c>-step{n:08d}</c>) are not listed.
/// </summary>
public sealed record TrainingRun(string Directory, string? LogPath, IReadOnlyList<TrainedOutput> Outputs, string? SampleDir)
{
    /// <summary>The kind of the run's outputs (the newest output's kind when a folder holds several), null before the first save.</summary>
    public TrainedOutputKind? Kind => Outputs.Count == 0 ? null : Outputs[^1].Kind;

    /// <summary>The LoRA files in epoch order, the final file last (empty for other methods).</summary>
    public IReadOnlyList<(int? Epoch, string Path)> LoraFiles =>
        Outputs.Where(o => o.Kind == TrainedOutputKind.Lora).Select(o => (o.Epoch, o.Path)).ToList();

    /// <summary>The final LoRA (no epoch number), else the last epoch's.</summary>
    public string? FinalLora => LoraFiles.Count == 0 ? null : LoraFiles.FirstOrDefault(f => f.Epoch is null).Path ?? LoraFiles[^1].Path;

    /// <summary>The final output (no epoch number), else the last epoch's.</summary>
    public TrainedOutput? FinalOutput => Outputs.FirstOrDefault(o => o.Epoch is null) ?? Outputs.LastOrDefault();

    /// <summary>The config the trainer wrote to <c>run/training.toml</c> when the run started (null for runs without one).</summary>
    public TrainingConfig? RecordedConfig =>
        File.Exists(RunFolder.RecordedConfigOf(Directory)) ? TrainingConfig.Load(RunFolder.RecordedConfigOf(Directory)) : null;

    /// <summary>
    /// The base model the run trained on, as its recorded config names it; <c>embedded:tiny</c> is the copy the trainer
    /// made in <c>base-model/</c>. Null for runs without a recorded config.
    /// </summary>
    public string? BaseModelPath => RecordedConfig?.PretrainedModelNameOrPath is not { } path ? null
        : path == TrainingModelLoader.EmbeddedTiny ? Path.Combine(Directory, "base-model", World.WorldModel.ModelFileName)
        : path;

    /// <summary>The text of each line of the run's sample_prompts file, for labelling sample grids (empty when unknown).</summary>
    public IReadOnlyList<string> SamplePromptTexts =>
        RecordedConfig?.SamplePrompts is { } file && File.Exists(file) ? Sampling.SamplePromptFile.Load(file).Prompts.Select(p => p.Prompt).ToList() : [];

    /// <param name="logSearchRoot">
    /// Where to look for the log when <c>{dir}/logs</c> has none (logging_dir may sit outside output_dir): the newest
    /// loss.csv below it in a folder whose name ends with the run's output name.
    /// </param>
    public static TrainingRun Open(string dir, string? logSearchRoot = null)
    {
        var found = FindOutputs(dir).ToList();
        var name = LatestOutputName(dir, found);
        var outputs = found.Where(f => RunFolder.OutputNameOf(f.Path) == name)
            .OrderBy(f => f.Epoch ?? int.MaxValue).ThenBy(f => f.Path, StringComparer.Ordinal).ToList();
        var log = NewestLog(Path.Combine(dir, "logs"), _ => true);
        if (log is null && logSearchRoot is not null && name is not null)
            log = NewestLog(logSearchRoot, folder => Path.GetFileName(folder).EndsWith(name, StringComparison.Ordinal));
        var samples = RunFolder.SampleDirOf(dir);
        return new TrainingRun(dir, log, outputs, System.IO.Directory.Exists(samples) ? samples : null);
    }

    /// <summary>
    /// One output_dir can hold several runs (kohya names each save after output_name): the run is the one that
    /// run/training.toml records (the trainer rewrites it at every start), else the one whose output was written last.
    /// </summary>
    static string? LatestOutputName(string dir, IReadOnlyList<TrainedOutput> outputs)
    {
        var names = outputs.Select(o => RunFolder.OutputNameOf(o.Path)).ToHashSet(StringComparer.Ordinal);
        if (File.Exists(RunFolder.RecordedConfigOf(dir)) && TrainingConfig.Load(RunFolder.RecordedConfigOf(dir)).OutputName is { } recorded && names.Contains(recorded))
            return recorded;
        return outputs.OrderByDescending(o => System.IO.Directory.Exists(o.Path) ? System.IO.Directory.GetLastWriteTimeUtc(o.Path) : File.GetLastWriteTimeUtc(o.Path)).Select(o => RunFolder.OutputNameOf(o.Path)).FirstOrDefault();
    }

    /// <summary>The output_name of the run (its saves' names without the epoch suffix), null before the first save.</summary>
    public string? OutputName => Outputs.Count == 0 ? null : RunFolder.OutputNameOf(Outputs[^1].Path);

    static IEnumerable<TrainedOutput> FindOutputs(string dir)
    {
        foreach (var path in System.IO.Directory.EnumerateFiles(dir, "*.safetensors"))
            if (!RunFolder.IsStepSave(path) && KindOf(path) is { } kind)
                yield return new TrainedOutput(RunFolder.EpochOf(path), path, kind);
        if (!File.Exists(RunFolder.RecordedConfigOf(dir))) yield break;   // diffusers folders count in a run's output folder only
        foreach (var folder in System.IO.Directory.EnumerateDirectories(dir))
            if (!RunFolder.IsStepSave(folder) && File.Exists(Path.Combine(folder, "model_index.json")))
                yield return new TrainedOutput(RunFolder.EpochOf(folder), folder, TrainedOutputKind.Checkpoint);
    }

    static string? NewestLog(string root, Func<string, bool> folderMatches) => System.IO.Directory.Exists(root)
        ? System.IO.Directory.EnumerateFiles(root, RunFolder.LossLogFile, SearchOption.AllDirectories)
            .Where(f => folderMatches(Path.GetDirectoryName(f)!)).OrderByDescending(File.GetLastWriteTimeUtc).FirstOrDefault()
        : null;

    /// <summary>The most recently written run under <paramref name="runsDir"/>: a folder holding trained outputs or a logs/…/loss.csv.</summary>
    public static TrainingRun FindLatest(string runsDir)
    {
        if (!System.IO.Directory.Exists(runsDir))
            throw new DirectoryNotFoundException($"{runsDir} does not exist; run notebooks/05-train.ipynb (or ntrain train) first.");
        // A folder with outputs is the run; a log folder alone counts only when nothing was saved yet.
        var outputDirs = System.IO.Directory.EnumerateDirectories(runsDir, "*", SearchOption.AllDirectories).Prepend(runsDir)
            .Where(d => FindOutputs(d).Any()).ToList();
        if (outputDirs.Count > 0)
            return Open(outputDirs.OrderByDescending(LastWrite).First(), runsDir);
        var log = NewestLog(runsDir, _ => true)
            ?? throw new FileNotFoundException($"no training run under {runsDir}: no LoRA, checkpoint or embedding and no logs/<name>/{RunFolder.LossLogFile}.");
        var logFolder = Path.GetDirectoryName(log)!;
        var logs = logFolder.LastIndexOf(Path.DirectorySeparatorChar + "logs", StringComparison.Ordinal);
        return Open(logs > 0 ? logFolder[..logs] : logFolder) with { LogPath = log };
    }

    static DateTime LastWrite(string dir) =>
        System.IO.Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Select(File.GetLastWriteTimeUtc).DefaultIfEmpty(DateTime.MinValue).Max();

    /// <summary>The metadata key the trainer writes into full checkpoints (fine-tuning, DreamBooth).</summary>
    public const string TrainedCheckpointKey = "ntrain.training_method";

    /// <summary>What a .safetensors file holds, by its tensor names; null for anything else (or an unreadable file).</summary>
    public static TrainedOutputKind? KindOf(string path)
    {
        try
        {
            using var file = SafeTensorsFile.Open(path);
            if (file.Names.Any(n => n.StartsWith("lora_", StringComparison.Ordinal))) return TrainedOutputKind.Lora;
            if (file.Names.Contains(Embeddings.TextualInversionEmbedding.TensorName)) return TrainedOutputKind.Embedding;
            // A checkpoint counts when this trainer wrote it, so a base model kept beside the runs is not taken for one.
            return file.Metadata.ContainsKey(TrainedCheckpointKey) ? TrainedOutputKind.Checkpoint : null;
        }
        catch (Exception e) when (e is SafeTensorsFormatException or IOException)
        {
            return null;
        }
    }
}
