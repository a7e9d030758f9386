using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using NotebookTrainer.Configuration;

namespace NotebookTrainer.Datasets.FineTune;

/// <param name="TagsChanged">entries whose tags the rules changed</param>
/// <param name="CaptionsChanged">entries whose caption the rules changed</param>
/// <param name="Problems">entries without tags or without a caption (kept as they are)</param>
public sealed record MetadataCleanReport(string OutJson, int Entries, int TagsChanged, int CaptionsChanged, IReadOnlyList<DatasetProblem> Problems);

/// <summary>
/// kohya's clean_captions_and_tags.py, rule for rule: tags get underscores turned into spaces (keeping <c>^_^</c>),
/// DeepDanbooru's trailing rating dropped, hair/eye/sleeve/hairstyle tags dropped when several people are tagged and
/// the tags disagree, and a tag removed when a longer tag ends with it (<c>shirt</c> beside <c>white shirt</c>);
/// BLIP captions get "anime girl", "woman", "people"… rewritten to "girl"/"girls". Python's <c>\w</c> (letters,
/// digits and numerals of any script, and "_") is spelled out, since .NET's also matches combining marks.
/// </summary>
public static class MetadataCleaner
{
    const string W = @"[\p{L}\p{Nd}\p{Nl}\p{No}_]";
    const string WordOrDash = @"[\p{L}\p{Nd}\p{Nl}\p{No}_\-]";
    const RegexOptions Options = RegexOptions.CultureInvariant;

    static readonly Regex HairLength = new(@", (long|short|medium) hair, ", Options);
    static readonly Regex HairCut = new(@", (bob|hime) cut, ", Options);
    static readonly Regex Hair = new($@", ({WordOrDash}+) hair, ", Options);
    static readonly Regex Word = new($@", ({WordOrDash}+|hair ornament), ", Options);

    /// <summary>Tags that may appear once per image; with several people and more than one of a kind, all of that kind go.</summary>
    static readonly Regex[] RemovedInMulti =
    [
        HairLength,
        HairCut,
        new($@", {WordOrDash}+ eyes, ", Options),
        new($@", ({WordOrDash}+ sleeves|sleeveless), ", Options),
        new($@", (ponytail|braid|ahoge|twintails|{WordOrDash}+ bun|single hair bun|single side bun|two side up|two tails|{WordOrDash}+ braid|sidelocks), ", Options),
    ];

    /// <summary>Applied in order, each until it no longer changes the caption.</summary>
    static readonly (string From, string To)[] CaptionReplacements =
    [
        ("anime anime", "anime"),
        ("young ", ""),
        ("anime girl", "girl"),
        ("cartoon female", "girl"),
        ("cartoon lady", "girl"),
        ("cartoon character", "girl"),
        ("cartoon woman", "girl"),
        ("cartoon women", "girls"),
        ("cartoon girl", "girl"),
        ("anime female", "girl"),
        ("anime lady", "girl"),
        ("anime character", "girl"),
        ("anime woman", "girl"),
        ("anime women", "girls"),
        ("lady", "girl"),
        ("female", "girl"),
        ("woman", "girl"),
        ("women", "girls"),
        ("people", "girls"),
        ("person", "girl"),
        ("a cartoon figure", "a figure"),
        ("a cartoon image", "an image"),
        ("a cartoon picture", "a picture"),
        ("an anime cartoon image", "an image"),
        ("a cartoon anime drawing", "a drawing"),
        ("a cartoon drawing", "a drawing"),
        ("girl girl", "girl"),
    ];

    public static string CleanCaption(string caption)
    {
        foreach (var (from, to) in CaptionReplacements)
        {
            string before;
            do
            {
                before = caption;
                caption = caption.Replace(from, to, StringComparison.Ordinal);
            } while (caption != before);
        }
        return caption;
    }

    /// <param name="log">told when the tags carry more than one rating (only the text before the first is kept)</param>
    public static string CleanTags(string tags, Action<string>? log = null)
    {
        tags = tags.Replace("^_^", "^@@@^", StringComparison.Ordinal).Replace('_', ' ').Replace("^@@@^", "^_^", StringComparison.Ordinal);

        // DeepDanbooru ends its tags with "rating:…"; WD14 has none.
        var tokens = tags.Split(", rating");
        if (tokens.Length > 1)
        {
            if (tokens.Length > 2) log?.Invoke($"multiple ratings: {tags}");
            tags = tokens[0];
        }

        // Every tag framed as ", tag, " with its own commas, so the patterns below can match neighbouring tags.
        tags = ", " + tags.Replace(", ", ", , ", StringComparison.Ordinal) + ", ";

        if (tags.Contains("girls", StringComparison.Ordinal) || tags.Contains("boys", StringComparison.Ordinal))
        {
            foreach (var pattern in RemovedInMulti)
                if (pattern.Matches(tags).Count > 1) tags = pattern.Replace(tags, "");

            // A hair length shared by everyone stays: it is set aside while the hair colours are judged.
            var length = HairLength.Match(tags);
            if (length.Success) tags = HairLength.Replace(tags, ", @@@, ");
            if (Hair.Matches(tags).Count > 1) tags = Hair.Replace(tags, "");
            if (length.Success) tags = tags.Replace(", @@@, ", length.Value, StringComparison.Ordinal);
        }

        // "shirt" goes when "white shirt" is there.
        var words = Word.Matches(tags).Select(m => m.Groups[1].Value).ToList();
        foreach (var word in words)
            if (Regex.IsMatch(tags, $@", (({W}+) )+{Regex.Escape(word)}, ", Options))
                tags = tags.Replace($", {word}, ", "", StringComparison.Ordinal);

        tags = tags.Replace(", , ", ", ", StringComparison.Ordinal);
        if (!tags.StartsWith(", ", StringComparison.Ordinal) || !tags.EndsWith(", ", StringComparison.Ordinal))
            throw new InvalidOperationException($"tag cleaning lost its frame on '{tags}'.");
        return tags.Length <= 4 ? "" : tags[2..^2];
    }

    /// <summary>Cleans every entry's tags and caption of <paramref name="inJson"/> into <paramref name="outJson"/> (may be the same file).</summary>
    /// <param name="debug">log each changed text before and after</param>
    public static MetadataCleanReport Clean(string inJson, string outJson, bool debug = false, Action<string>? log = null)
    {
        log ??= _ => { };
        if (!File.Exists(inJson))
            throw new FileNotFoundException($"{inJson}: no metadata file; create it with ntrain metadata merge-captions / merge-tags first.", inJson);
        log($"loading existing metadata: {inJson}");
        var metadata = FineTuneMetadata.Load(inJson);
        var problems = new List<DatasetProblem>();
        int tagsChanged = 0, captionsChanged = 0;
        foreach (var (key, node) in metadata.ToList())
        {
            if (node is not JsonObject entry)
                throw new InvalidDataException($"{inJson}: the entry '{key}' is not an object; make it {{\"caption\": …, \"tags\": …}} or remove it.");
            if (Text(entry, "tags", inJson, key) is not { } tags)
                problems.Add(DatasetProblem.Warning(inJson, $"'{key}' has no tags; merge them with ntrain metadata merge-tags, or ignore this if the image has a caption only.", key: key));
            else if (CleanTags(tags, log) is var cleaned && cleaned != tags)
            {
                entry["tags"] = cleaned;
                tagsChanged++;
                if (debug) log($"FROM: {tags}{Environment.NewLine}TO:   {cleaned}");
            }
            if (Text(entry, "caption", inJson, key) is not { } caption)
                problems.Add(DatasetProblem.Warning(inJson, $"'{key}' has no caption; merge one with ntrain metadata merge-captions, or ignore this if the image has tags only.", key: key));
            else if (CleanCaption(caption) is var cleaned && cleaned != caption)
            {
                entry["caption"] = cleaned;
                captionsChanged++;
                if (debug) log($"FROM: {caption}{Environment.NewLine}TO:   {cleaned}");
            }
        }
        log($"writing metadata: {outJson}");
        FineTuneMetadata.Save(outJson, metadata);
        return new MetadataCleanReport(Path.GetFullPath(outJson), metadata.Count, tagsChanged, captionsChanged, problems);
    }

    static string? Text(JsonObject entry, string field, string file, string key) => entry[field] switch
    {
        null => null,
        JsonValue value when value.TryGetValue(out string? text) => text,
        _ => throw new InvalidDataException($"{file}: '{key}'.{field} is not a string; make it one (\"a, b, c\") or remove it."),
    };
}
