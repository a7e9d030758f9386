using System.Text.Json.Nodes;
using NotebookTrainer.Configuration;
using NotebookTrainer.Datasets.Captions;
using NotebookTrainer.Datasets.Config;

namespace NotebookTrainer.Datasets.FineTune;

/// <summary>What to merge: kohya's arguments of merge_captions_to_metadata.py / merge_dd_tags_to_metadata.py.</summary>
public sealed record MetadataMergeOptions
{
    public required string TrainDataDir { get; init; }
    public required string OutJson { get; init; }
    /// <summary>The metadata to merge into; when null and <see cref="OutJson"/> exists, that file is read.</summary>
    public string? InJson { get; init; }
    /// <summary>Null: kohya's defaults, .caption for captions and .txt for tags.</summary>
    public string? CaptionExtension { get; init; }
    /// <summary>Key images by their full path instead of the file name without extension (needed for several folders).</summary>
    public bool FullPath { get; init; }
    public bool Recursive { get; init; }
    /// <summary>Log every key with its text.</summary>
    public bool Debug { get; init; }
}

/// <param name="Merged">images whose text went into the metadata</param>
/// <param name="Problems">images left out (no text file, unreadable text) and warnings</param>
public sealed record MetadataMergeReport(string OutJson, string? InJson, int Images, int Merged, IReadOnlyList<DatasetProblem> Problems);

/// <summary>
/// The first step of kohya's fine-tuning workflow: each image's caption file (BLIP/GIT captions) or tag file
/// (WD14/DeepDanbooru tags) becomes the "caption" or "tags" field of its entry in the metadata JSON, keyed by the file
/// name without extension (or the full path). Existing entries keep their other fields; the text is stripped of
/// surrounding whitespace as Python's str.strip does.
/// </summary>
public static class MetadataMerge
{
    public static MetadataMergeReport Captions(MetadataMergeOptions options, Action<string>? log = null) => Merge(options, "caption", DatasetDefaults.CaptionExtension, log);

    public static MetadataMergeReport Tags(MetadataMergeOptions options, Action<string>? log = null) => Merge(options, "tags", ".txt", log);

    static MetadataMergeReport Merge(MetadataMergeOptions options, string field, string defaultExtension, Action<string>? log)
    {
        log ??= _ => { };
        if (options.Recursive && !options.FullPath)
            throw new ArgumentException("recursive needs full_path: images in different folders may share a file name, so they must be keyed by their full path.");
        var extension = options.CaptionExtension ?? defaultExtension;
        if (!extension.StartsWith('.') || extension.Length < 2)
            throw new ArgumentException($"caption extension must start with a dot, e.g. {defaultExtension} (got '{extension}').");

        var images = MetadataImages.Find(options.TrainDataDir, options.Recursive);
        log($"found {images.Count} images.");
        var inJson = options.InJson ?? (File.Exists(options.OutJson) ? options.OutJson : null);
        JsonObject metadata;
        if (inJson is null)
        {
            log("new metadata will be created.");
            metadata = [];
        }
        else
        {
            log($"loading existing metadata: {inJson}; the {field} of images already in it is replaced.");
            metadata = FineTuneMetadata.Load(inJson);
        }

        var problems = new List<DatasetProblem>();
        var merged = 0;
        foreach (var image in images)
        {
            var textPath = CaptionFile.PathFor(image, extension);
            if (IO.UntrustedFile.KindOf(textPath) == IO.FileKind.Missing)
            {
                problems.Add(DatasetProblem.Error(image, $"no {Path.GetFileName(textPath)} next to it, so the image is left out of the metadata (kohya's script stops here); write the file or check --caption-extension."));
                continue;
            }
            if (CaptionFile.Decode(textPath, problems) is not { } text) continue;
            var value = PythonStrip(text);
            var key = options.FullPath ? image : Path.GetFileNameWithoutExtension(image);
            if (metadata[key] is null) metadata[key] = new JsonObject();
            if (metadata[key] is not JsonObject entry)
                throw new InvalidDataException($"{inJson}: the entry '{key}' is not an object; make it {{\"{field}\": \"…\"}} or remove it.");
            entry[field] = value;
            merged++;
            if (options.Debug) log($"{key} {value}");
        }

        log($"writing metadata: {options.OutJson}");
        FineTuneMetadata.Save(options.OutJson, metadata);
        return new MetadataMergeReport(Path.GetFullPath(options.OutJson), inJson, images.Count, merged, problems);
    }

    /// <summary>Python's str.strip(): .NET's white space plus the separators U+001C–U+001F, which Python also strips.</summary>
    public static string PythonStrip(string text)
    {
        int start = 0, end = text.Length;
        while (start < end && IsPythonSpace(text[start])) start++;
        while (end > start && IsPythonSpace(text[end - 1])) end--;
        return text[start..end];
    }

    static bool IsPythonSpace(char c) => char.IsWhiteSpace(c) || c is >= '\x1c' and <= '\x1f';
}
