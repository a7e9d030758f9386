using System.Text.Json;
using System.Text.Json.Nodes;
using NotebookTrainer.Configuration;
using NotebookTrainer.Datasets.Config;
using NotebookTrainer.Images;

namespace NotebookTrainer.Datasets;

/// <summary>
/// kohya's fine-tune metadata: JSON <c>{ "image key": { "caption": …, "tags": …, "image_size": [w, h] } }</c>, or
/// JSONL with one such object per line carrying its key in "image_key". The caption used is caption + ", " + tags.
/// A key is a path (absolute or relative to image_dir), with or without its image extension.
/// </summary>
public static class FineTuneMetadata
{
    public static List<(string Path, string? Caption)> Read(SubsetOptions subset, ICollection<DatasetProblem> problems)
    {
        var file = subset.MetadataFile!;
        var entries = ReadEntries(file, problems, subset.Line, $"{subset.KeyPath}.metadata_file");
        if (entries == null) return [];

        var result = new List<(string, string?)>();
        foreach (var (key, value, line) in entries)
        {
            var path = FindImage(key, subset.ImageDir);
            if (path == null)
            {
                problems.Add(DatasetProblem.Warning(file, $"image '{key}' listed in the metadata was not found{(subset.ImageDir != null ? $" in {subset.ImageDir}" : "")}; it is skipped.", line == 0 ? null : line));
                continue;
            }
            var caption = value.ValueKind == JsonValueKind.Object && value.TryGetProperty("caption", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
            var tags = value.ValueKind == JsonValueKind.Object && value.TryGetProperty("tags", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            // Tags are appended to every line of a multi-line caption (lines are wildcard alternatives).
            var combined = caption == null ? tags
                : string.IsNullOrEmpty(tags) ? caption
                : string.Join('\n', caption.Split('\n').Select(line => line + ", " + tags));
            if (combined == null)
                problems.Add(DatasetProblem.Warning(path, $"metadata entry '{key}' has neither caption nor tags; trains with an empty caption.", line == 0 ? null : line));
            result.Add((path, combined ?? ""));
        }
        return result;
    }

    /// <summary>
    /// The metadata JSON as the metadata commands edit it (merge captions/tags, clean, prepare buckets): one object per
    /// image key in file order, every field kept; a key given twice keeps its last value, as Python's json does.
    /// Throws <see cref="InvalidDataException"/> naming the file when it cannot be read.
    /// </summary>
    public static JsonObject Load(string file)
    {
        if (file.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase))
            throw new InvalidDataException($"{file}: the metadata commands read and write kohya's JSON form (one object of image keys), not JSONL; give a .json file.");
        var problems = new List<DatasetProblem>();
        var entries = ReadEntries(file, problems, null, null);
        if (entries == null) throw new InvalidDataException(problems.First(p => p.IsError).ToString());
        var metadata = new JsonObject();
        foreach (var (key, value, _) in entries) metadata[key] = JsonNode.Parse(value.GetRawText());
        return metadata;
    }

    /// <summary>Writes <paramref name="metadata"/> as kohya's scripts do (JSON indented by 2), atomically.</summary>
    public static void Save(string file, JsonObject metadata) =>
        IO.AtomicFile.WriteAllText(file, metadata.ToJsonString(new JsonSerializerOptions
        {
            WriteIndented = true,
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        }));

    /// <summary>
    /// The entries of a metadata file in file order, or null after adding an error naming the file (missing, too large,
    /// not UTF-8, not JSON, not an object). <paramref name="line"/> and <paramref name="key"/> locate the config entry
    /// that names the file. Entry line numbers are set for JSONL only (0 otherwise).
    /// </summary>
    static List<(string Key, JsonElement Value, int Line)>? ReadEntries(string file, ICollection<DatasetProblem> problems, int? line, string? key)
    {
        if (IO.UntrustedFile.KindOf(file) == IO.FileKind.Missing)
        {
            problems.Add(DatasetProblem.Error(file, "metadata_file not found; create it with ntrain metadata merge-captions / merge-tags (kohya's merge_captions_to_metadata.py / merge_dd_tags_to_metadata.py) or fix the path.", line, key));
            return null;
        }
        byte[] bytes;
        try { bytes = IO.UntrustedFile.ReadAllBytes(file, IO.InputLimits.Current.MaxMetadataBytes, nameof(IO.InputLimits.MaxMetadataBytes)); }
        catch (IO.UntrustedFileException e)
        {
            problems.Add(DatasetProblem.Error(file, e.Reason, line, key));
            return null;
        }
        if (!System.Text.Unicode.Utf8.IsValid(bytes))
        {
            problems.Add(DatasetProblem.Error(file, "metadata is not valid UTF-8; re-save it as UTF-8.", line, key));
            return null;
        }
        var json = new JsonDocumentOptions { MaxDepth = IO.InputLimits.Current.MaxConfigDepth };
        var entries = new List<(string Key, JsonElement Value, int Line)>();
        try
        {
            if (file.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase))
            {
                var lineNumber = 0;
                for (var start = 0; start < bytes.Length;)
                {
                    var end = Array.IndexOf(bytes, (byte)'\n', start);
                    if (end < 0) end = bytes.Length;
                    var text = bytes.AsMemory(start, end - start);
                    start = end + 1;
                    lineNumber++;
                    if (text.Span.Trim(" \t\r"u8).Length == 0) continue;
                    using var doc = JsonDocument.Parse(text, json);
                    if (!doc.RootElement.TryGetProperty("image_key", out var imageKey) || imageKey.ValueKind != JsonValueKind.String)
                    {
                        problems.Add(DatasetProblem.Error(file, "JSONL entry has no \"image_key\" string; add the image path as \"image_key\".", lineNumber));
                        continue;
                    }
                    entries.Add((imageKey.GetString()!, doc.RootElement.Clone(), lineNumber));
                }
            }
            else
            {
                using var doc = JsonDocument.Parse(bytes.AsMemory(bytes.AsSpan().StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) ? 3 : 0), json);
                if (doc.RootElement.ValueKind != JsonValueKind.Object)
                {
                    problems.Add(DatasetProblem.Error(file, "metadata JSON must be an object mapping image keys to {\"caption\", \"tags\"}."));
                    return null;
                }
                foreach (var property in doc.RootElement.EnumerateObject())
                    entries.Add((property.Name, property.Value.Clone(), 0));
            }
        }
        catch (JsonException e)
        {
            problems.Add(DatasetProblem.Error(file, $"metadata is not valid JSON: {IO.Printable.Escape(e.Message)}", (int?)e.LineNumber + 1));
            return null;
        }
        return entries;
    }

    static string? FindImage(string key, string? imageDir)
    {
        var candidates = new List<string>();
        if (imageDir != null) candidates.Add(Path.Combine(imageDir, key));
        candidates.Add(key);
        foreach (var candidate in candidates)
        {
            if (File.Exists(candidate)) return Path.GetFullPath(candidate);
            foreach (var ext in ImageExtensions.All)
                if (File.Exists(candidate + ext)) return Path.GetFullPath(candidate + ext);
        }
        return null;
    }
}
