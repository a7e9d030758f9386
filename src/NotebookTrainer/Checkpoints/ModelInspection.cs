using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using NotebookTrainer.Display;
using NotebookTrainer.Progress;

namespace NotebookTrainer.Checkpoints;

/// <summary>
/// What <c>ntrain model inspect</c> and the model-selection notebook show about a checkpoint: format, architecture,
/// dtypes, parameters per part, key problems and file hashes.
/// </summary>
public sealed record ModelInspection(
    string Path,
    CheckpointFormat Format,
    ModelArchitecture Architecture,
    bool Supported,
    string Description,
    string? ConfigSource,
    string? PredictionType,
    string? TokenizerDir,
    IReadOnlyDictionary<string, int> DTypes,
    IReadOnlyDictionary<string, long> ParameterCounts,
    long TotalParameters,
    int TensorCount,
    IReadOnlyList<string> MissingKeys,
    IReadOnlyList<string> ShapeMismatches,
    IReadOnlyList<string> UnexpectedKeys,
    int IgnoredKeyCount,
    int PassthroughKeyCount,
    IReadOnlyDictionary<string, string> Metadata,
    IReadOnlyList<FileHashes> Files) : IHtmlRenderable
{
    public static ModelInspection Inspect(string path, string? configDir = null, IProgress<ProgressUpdate>? progress = null, CancellationToken cancellationToken = default)
    {
        using var analysis = CheckpointLoader.Analyze(path, configDir);
        var files = analysis.Sources.Select(s => FileHashes.Compute(s.Path, progress, cancellationToken)).ToList();
        return new ModelInspection(
            path, analysis.Format, analysis.Detection.Architecture, analysis.CanLoad, analysis.Detection.Description,
            analysis.Configs?.Source, analysis.Configs?.PredictionType, analysis.TokenizerDir,
            analysis.DTypes, analysis.ParameterCounts,
            analysis.Sources.Sum(s => s.Names.Sum(n => s.Shape(n).Aggregate(1L, (a, b) => a * b))),
            analysis.Sources.Sum(s => s.Names.Count),
            analysis.MissingKeys, analysis.ShapeMismatches, analysis.UnexpectedKeys,
            analysis.IgnoredKeys.Count, analysis.PassthroughKeys.Count,
            analysis.Format == CheckpointFormat.DiffusersFolder ? new Dictionary<string, string>() : analysis.Sources[0].Metadata.ToDictionary(),
            files);
    }

    static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter() },
    };

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    static string Millions(long n) => (n / 1e6).ToString("0.00", CultureInfo.InvariantCulture) + "M";

    string FormatName => Format switch
    {
        CheckpointFormat.SingleFile => "single file (.safetensors)",
        CheckpointFormat.DiffusersFolder => "diffusers folder",
        _ => "PyTorch pickle (read without executing it)",
    };

    IEnumerable<(string Label, string Value)> Summary()
    {
        yield return ("path", Path);
        yield return ("format", FormatName);
        yield return ("architecture", Description);
        yield return ("usable as base model", !Supported ? "no"
            : Architecture == ModelArchitecture.StableDiffusionXL ? "LoRA / LoCon / LoHa training, sampling, inspect, convert, model verify; not yet full-model training" : "yes");
        if (ConfigSource != null) yield return ("configs", ConfigSource);
        if (PredictionType != null) yield return ("prediction type", PredictionType + (ConfigSource?.StartsWith("built-in", StringComparison.Ordinal) == true ? " (default; the weights cannot tell)" : ""));
        yield return ("tokenizer", TokenizerDir ?? "none found (put a diffusers 'tokenizer' folder next to the checkpoint or pass --tokenizer DIR)");
        yield return ("dtypes", string.Join(", ", DTypes.Select(d => $"{d.Key} × {d.Value}")));
        yield return ("tensors", $"{TensorCount} ({Millions(TotalParameters)} parameters)");
        if (ParameterCounts.Count > 0)
            yield return ("parameters", string.Join(", ", ParameterCounts.Select(p => $"{p.Key} {Millions(p.Value)}")));
        yield return ("missing keys", MissingKeys.Count == 0 ? "none" : $"{MissingKeys.Count}: {Sample(MissingKeys)}");
        if (ShapeMismatches.Count > 0) yield return ("shape mismatches", $"{ShapeMismatches.Count}: {Sample(ShapeMismatches)}");
        yield return ("unexpected keys", UnexpectedKeys.Count == 0 ? "none" : $"{UnexpectedKeys.Count}: {Sample(UnexpectedKeys)}");
        if (IgnoredKeyCount > 0) yield return ("ignored keys", $"{IgnoredKeyCount} (EMA copies / position_ids)");
        if (PassthroughKeyCount > 0) yield return ("kept unchanged", $"{PassthroughKeyCount} (schedule buffers, position_ids, OpenCLIP extras)");
        if (Metadata.Count > 0) yield return ("metadata", string.Join(", ", Metadata.Keys.Order(StringComparer.Ordinal).Take(10)) + (Metadata.Count > 10 ? $" … ({Metadata.Count} keys)" : ""));
        foreach (var file in Files)
        {
            var name = Files.Count > 1 ? $" {System.IO.Path.GetFileName(System.IO.Path.GetDirectoryName(file.Path))}/{System.IO.Path.GetFileName(file.Path)}" : "";
            yield return ($"sha256{name}", file.Sha256);
            yield return ($"A1111 short hash{name}", file.ShortHash);
            yield return ($"A1111 legacy model hash{name}", file.LegacyModelHash);
        }
    }

    static string Sample(IReadOnlyList<string> items) =>
        string.Join(", ", items.Take(10)) + (items.Count > 10 ? $" … and {items.Count - 10} more" : "");

    public string ToText()
    {
        var sb = new StringBuilder();
        foreach (var (label, value) in Summary()) sb.Append(label).Append(": ").AppendLine(value);
        return sb.ToString();
    }

    public string ToHtml() =>
        "<div class=\"nt-model-inspection\">" + Html.Table(["", "value"], Summary().Select(r => new object?[] { r.Label, r.Value })) + "</div>";
}
