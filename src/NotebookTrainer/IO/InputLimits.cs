using System.Globalization;
using System.Reflection;

namespace NotebookTrainer.IO;

/// <summary>
/// The caps on everything read from untrusted files (dataset folders, zips, journals, model files): an input over a
/// cap is refused with a message naming the file, the cap and the variable that raises it. Defaults fit real datasets
/// and models with room to spare. Each cap is set by an environment variable named after it
/// (<c>MaxCaptionBytes</c> → <c>NTRAIN_MAX_CAPTION_BYTES</c>; sizes take KiB/MiB/GiB suffixes), or in code through
/// <see cref="Current"/>: <c>InputLimits.Current = InputLimits.Current with { MaxCaptionBytes = 4 &lt;&lt; 20 };</c>.
/// </summary>
public sealed record InputLimits
{
    /// <summary>One caption file.</summary>
    public long MaxCaptionBytes { get; init; } = 1L << 20;
    /// <summary>A dataset or training config (.toml/.json), a prompts or links list.</summary>
    public long MaxConfigBytes { get; init; } = 16L << 20;
    /// <summary>Tables/arrays nested in a config; kohya's deepest is 3 ([[datasets.subsets]] plus an inline table).</summary>
    public int MaxConfigDepth { get; init; } = 64;
    /// <summary>Training samples in one epoch (images × num_repeats): the plan holds one entry per sample.</summary>
    public long MaxSamplesPerEpoch { get; init; } = 10_000_000;
    /// <summary>A fine-tune metadata_file (.json/.jsonl): about 1 KiB per image.</summary>
    public long MaxMetadataBytes { get; init; } = 256L << 20;
    /// <summary>An image file decoded for training, tagging, checks or thumbnails.</summary>
    public long MaxImageBytes { get; init; } = 256L << 20;
    /// <summary>A caption journal (.ntrain/tag-journal.log), which keeps every edit's captions in full.</summary>
    public long MaxJournalBytes { get; init; } = 256L << 20;
    /// <summary>Entries in a dataset zip.</summary>
    public int MaxZipEntries { get; init; } = 100_000;
    /// <summary>One file unpacked from a dataset zip.</summary>
    public long MaxZipEntryBytes { get; init; } = 512L << 20;
    /// <summary>All files unpacked from one dataset zip together.</summary>
    public long MaxZipTotalBytes { get; init; } = 8L << 30;
    /// <summary>Unpacked ÷ packed size of one zip entry over 1 MiB; images barely compress, text about 5×.</summary>
    public int MaxZipCompressionRatio { get; init; } = 100;
    /// <summary>A safetensors JSON header; real ones are under a few MiB (an SDXL checkpoint's is about 400 KiB).</summary>
    public long MaxSafeTensorsHeaderBytes { get; init; } = 16L << 20;
    /// <summary>data.pkl of a PyTorch checkpoint; real ones describe a few thousand tensors in a few MiB.</summary>
    public long MaxPickleBytes { get; init; } = 64L << 20;
    /// <summary>Memory the restricted unpickler may build from data.pkl (objects, strings, containers), estimated as it goes.</summary>
    public long MaxPickleMemoryBytes { get; init; } = 256L << 20;
    /// <summary>A .npz array file (a latent cache next to an image): an SD latent pair with its alpha mask is a few MiB.</summary>
    public long MaxNpzBytes { get; init; } = 256L << 20;

    /// <summary>The limits in force: the defaults, changed by any NTRAIN_MAX_… environment variable at start.</summary>
    public static InputLimits Current
    {
        get => current ??= FromEnvironment(Environment.GetEnvironmentVariables());
        set => current = value;
    }

    static InputLimits? current;

    /// <summary>The environment variable that sets <paramref name="property"/> (MaxCaptionBytes → NTRAIN_MAX_CAPTION_BYTES).</summary>
    public static string VariableFor(string property) =>
        "NTRAIN_" + string.Concat(property.Select((c, i) => i > 0 && char.IsUpper(c) ? "_" + c : char.ToUpperInvariant(c).ToString()));

    /// <summary>The defaults with every NTRAIN_MAX_… variable in <paramref name="environment"/> applied; a bad value is an error naming it.</summary>
    public static InputLimits FromEnvironment(System.Collections.IDictionary environment)
    {
        var limits = new InputLimits();
        foreach (var property in typeof(InputLimits).GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var name = VariableFor(property.Name);
            if (environment[name] is not string text || text.Trim().Length == 0) continue;
            var value = ParseSize(text)
                ?? throw new InvalidDataException($"{name}='{text}': not a size; give a whole number, optionally with KiB, MiB or GiB (e.g. {name}=64MiB).");
            if (value < 1) throw new InvalidDataException($"{name}='{text}': must be at least 1.");
            if (property.PropertyType == typeof(int))
                property.SetValue(limits, (int)Math.Min(value, int.MaxValue));
            else
                property.SetValue(limits, value);
        }
        return limits;
    }

    static long? ParseSize(string text)
    {
        var t = text.Trim();
        long unit = 1;
        foreach (var (suffix, size) in new[] { ("KiB", 1L << 10), ("MiB", 1L << 20), ("GiB", 1L << 30) })
            if (t.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)) { unit = size; t = t[..^suffix.Length].Trim(); break; }
        return long.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n <= long.MaxValue / unit ? n * unit : null;
    }

    /// <summary>"1 MiB (NTRAIN_MAX_CAPTION_BYTES)": a limit as messages show it.</summary>
    public static string Describe(long bytes, string property) => $"{FormatBytes(bytes)} ({VariableFor(property)})";

    public static string FormatBytes(long bytes) => bytes switch
    {
        >= 1L << 30 when bytes % (1L << 30) == 0 => $"{bytes >> 30} GiB",
        >= 1L << 20 when bytes % (1L << 20) == 0 => $"{bytes >> 20} MiB",
        >= 1L << 10 when bytes % (1L << 10) == 0 => $"{bytes >> 10} KiB",
        _ => $"{bytes:N0} bytes",
    };
}
