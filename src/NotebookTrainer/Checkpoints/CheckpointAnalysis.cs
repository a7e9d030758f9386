namespace NotebookTrainer.Checkpoints;

public enum CheckpointFormat
{
    /// <summary>One LDM-layout .safetensors file (A1111/ComfyUI/civitai style).</summary>
    SingleFile,
    /// <summary>A diffusers folder: unet/, vae/, text_encoder/ (+ tokenizer/, scheduler/).</summary>
    DiffusersFolder,
    /// <summary>A PyTorch pickle (.ckpt/.pt/.bin), read with the restricted reader.</summary>
    Pickle,
}

/// <summary>Where one diffusers tensor is found: which open file and under which stored name.</summary>
public sealed record ResolvedTensor(KeyMapping Mapping, ITensorSource Source, string StoredName);

/// <summary>
/// Everything known about a checkpoint before its weights are loaded: format, architecture, configs, and which
/// expected keys are missing, mis-shaped, unexpected, ignored or carried through. Holds its files open until disposed.
/// </summary>
public sealed class CheckpointAnalysis : IDisposable
{
    internal CheckpointAnalysis(string path, CheckpointFormat format, ArchitectureDetection detection, IReadOnlyList<ITensorSource> sources)
    {
        Path = path;
        Format = format;
        Detection = detection;
        Sources = sources;
    }

    public string Path { get; }
    public CheckpointFormat Format { get; }
    public ArchitectureDetection Detection { get; }
    public IReadOnlyList<ITensorSource> Sources { get; }
    public DiffusersConfigs? Configs { get; internal set; }
    public string? TokenizerDir { get; internal set; }
    public List<ResolvedTensor> Resolved { get; } = [];
    /// <summary>Expected names (in the file's own layout) that the file does not have.</summary>
    public List<string> MissingKeys { get; } = [];
    public List<string> ShapeMismatches { get; } = [];
    public List<string> UnexpectedKeys { get; } = [];
    public List<string> IgnoredKeys { get; } = [];
    /// <summary>Single-file keys outside the three components that a round trip keeps (schedule buffers, position_ids, OpenCLIP extras).</summary>
    public List<string> PassthroughKeys { get; } = [];

    public IReadOnlyDictionary<string, long> ParameterCounts =>
        Resolved.GroupBy(r => r.Mapping.Component).ToDictionary(g => g.Key, g => g.Sum(r => r.Mapping.Shape.Aggregate(1L, (a, b) => a * b)));

    /// <summary>How many stored tensors have each dtype (safetensors spelling), over every file.</summary>
    public IReadOnlyDictionary<string, int> DTypes =>
        Sources.SelectMany(s => s.Names.Select(s.DType)).GroupBy(d => d).OrderBy(g => g.Key).ToDictionary(g => g.Key, g => g.Count());

    public bool CanLoad => Detection.Supported && MissingKeys.Count == 0 && ShapeMismatches.Count == 0;

    public void ThrowIfNotLoadable()
    {
        if (!Detection.Supported)
            throw new CheckpointFormatException($"{Path}: {Detection.Description}");
        if (MissingKeys.Count > 0)
            throw new CheckpointFormatException($"{Path}: {Detection.Description}, but {MissingKeys.Count} expected tensors are missing: {Sample(MissingKeys)}. The file is incomplete or is a different variant; re-download it or pass the matching --config folder.");
        if (ShapeMismatches.Count > 0)
            throw new CheckpointFormatException($"{Path}: {ShapeMismatches.Count} tensors do not have the shape the config ({Configs?.Source}) implies: {Sample(ShapeMismatches)}. Pass the config folder that belongs to this model (--config DIR).");
    }

    static string Sample(List<string> items) =>
        string.Join(", ", items.Take(12)) + (items.Count > 12 ? $" … and {items.Count - 12} more" : "");

    public void Dispose()
    {
        foreach (var source in Sources) source.Dispose();
    }
}
