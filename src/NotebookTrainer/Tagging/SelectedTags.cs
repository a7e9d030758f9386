using System.Globalization;

namespace NotebookTrainer.Tagging;

/// <summary>Tag categories as numbered in WD14 <c>selected_tags.csv</c>.</summary>
public enum TagCategory
{
    General = 0,
    Character = 4,
    Rating = 9,
}

/// <summary>One row of <c>selected_tags.csv</c>; <see cref="Index"/> is the row's position in the model output.</summary>
public sealed record TagEntry(int Index, long TagId, string Name, TagCategory Category, long Count);

/// <summary>
/// The vocabulary of a WD14 tagger, read from <c>selected_tags.csv</c> (header <c>tag_id,name,category,count</c>).
/// Output index i of the model scores row i: 4 ratings, then general tags, then character tags.
/// </summary>
public sealed class SelectedTags
{
    public const string FileName = "selected_tags.csv";
    const string Header = "tag_id,name,category,count";

    public IReadOnlyList<TagEntry> Entries { get; }
    readonly Dictionary<string, TagEntry> byName;

    public SelectedTags(IReadOnlyList<TagEntry> entries)
    {
        Entries = entries;
        byName = new Dictionary<string, TagEntry>(StringComparer.Ordinal);
        foreach (var e in entries)
        {
            byName.TryAdd(e.Name, e);
            byName.TryAdd(e.Name.Replace('_', ' '), e);
        }
    }

    public int Count => Entries.Count;

    /// <summary>Looks a tag up by its CSV name or with underscores shown as spaces (as captions hold it).</summary>
    public TagEntry? Find(string tag) => byName.TryGetValue(tag, out var e) ? e : null;

    public static SelectedTags Load(string path)
    {
        if (!File.Exists(path))
            throw new TaggerModelException($"{path}: not found. A WD14 model folder needs {FileName} next to model.onnx (download both from the same model repository).");
        var entries = new List<TagEntry>();
        using var reader = new StreamReader(path);
        var header = reader.ReadLine();
        if (header is null || !header.Trim().TrimStart('\uFEFF').Equals(Header, StringComparison.OrdinalIgnoreCase))
            throw new TaggerModelException($"{path}:1: header is '{header}', expected '{Header}'. Is this the selected_tags.csv of a WD14 tagger?");
        var lineNo = 1;
        while (reader.ReadLine() is { } line)
        {
            lineNo++;
            if (line.Length == 0) continue;
            var fields = SplitCsv(line);
            if (fields.Count != 4)
                throw new TaggerModelException($"{path}:{lineNo}: expected 4 fields (tag_id,name,category,count), found {fields.Count}.");
            if (!long.TryParse(fields[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var id))
                throw new TaggerModelException($"{path}:{lineNo}: tag_id '{fields[0]}' is not an integer.");
            if (!int.TryParse(fields[2], NumberStyles.Integer, CultureInfo.InvariantCulture, out var cat) || !Enum.IsDefined((TagCategory)cat))
                throw new TaggerModelException($"{path}:{lineNo}: category '{fields[2]}' must be 0 (general), 4 (character) or 9 (rating).");
            long.TryParse(fields[3], NumberStyles.Integer, CultureInfo.InvariantCulture, out var count);
            entries.Add(new TagEntry(entries.Count, id, fields[1], (TagCategory)cat, count));
        }
        if (entries.Count == 0) throw new TaggerModelException($"{path}: no tags listed.");
        return new SelectedTags(entries);
    }

    public void Save(string path)
    {
        var sb = new System.Text.StringBuilder(Header).Append('\n');
        foreach (var e in Entries)
            sb.Append(e.TagId.ToString(CultureInfo.InvariantCulture)).Append(',').Append(QuoteCsv(e.Name)).Append(',')
              .Append(((int)e.Category).ToString(CultureInfo.InvariantCulture)).Append(',')
              .Append(e.Count.ToString(CultureInfo.InvariantCulture)).Append('\n');
        IO.AtomicFile.WriteAllText(path, sb.ToString());
    }

    static string QuoteCsv(string s) => s.IndexOfAny([',', '"', '\n']) < 0 ? s : "\"" + s.Replace("\"", "\"\"") + "\"";

    // Tag names such as `"` or `,` appear quoted in real tag lists.
    static List<string> SplitCsv(string line)
    {
        var fields = new List<string>();
        var sb = new System.Text.StringBuilder();
        var quoted = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"') { sb.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else sb.Append(c);
            }
            else if (c == '"' && sb.Length == 0) quoted = true;
            else if (c == ',') { fields.Add(sb.ToString()); sb.Clear(); }
            else sb.Append(c);
        }
        fields.Add(sb.ToString());
        return fields;
    }
}

/// <summary>A model folder or file that cannot be used as a WD14 tagger; the message names the file and the fix.</summary>
public sealed class TaggerModelException(string message, Exception? inner = null) : Exception(message, inner);
