using NotebookTrainer.Captions;

namespace NotebookTrainer.Curation;

public enum SearchMode { Or, And }
public enum TagSortOrder { Alphabetical, Frequency }

/// <summary>
/// A change to the tag lists of a caption folder. <see cref="Transform"/> maps one image's tags to its new tags;
/// <paramref name="counts"/> holds, for every tag, how many images carry it (before the operation).
/// Tags given by the user are normalised like caption content (<see cref="CaptionText.Normalize"/>).
/// </summary>
public abstract record TagOperation
{
    public abstract string Describe();
    public abstract List<string> Transform(string image, List<string> tags, IReadOnlyDictionary<string, int> counts);

    protected static HashSet<string> Set(IEnumerable<string> tags) => tags.Select(CaptionText.Normalize).Where(t => t.Length > 0).ToHashSet(StringComparer.Ordinal);
    protected static string Quote(IEnumerable<string> tags) => string.Join(", ", tags.Select(t => $"'{t}'"));
}

/// <summary>Puts the activation (trigger) tag first in every caption, removing it from anywhere else.</summary>
public sealed record AddActivationTag(string Tag) : TagOperation
{
    public override string Describe() => $"activation tag '{Tag}' first";
    public override List<string> Transform(string image, List<string> tags, IReadOnlyDictionary<string, int> counts)
    {
        var t = CaptionText.Normalize(Tag);
        if (t.Length == 0) throw new ArgumentException("The activation tag is empty; give a word such as 'sks'.", nameof(Tag));
        return tags.Where(x => x != t).Prepend(t).ToList();
    }
}

public sealed record RemoveTags(IReadOnlyList<string> Tags) : TagOperation
{
    public override string Describe() => $"remove {Quote(Tags)}";
    public override List<string> Transform(string image, List<string> tags, IReadOnlyDictionary<string, int> counts)
    {
        var remove = Set(Tags);
        return tags.Where(t => !remove.Contains(t)).ToList();
    }
}

/// <summary>
/// The Dataset Maker Colab's search-and-replace: a caption matches when it holds any (Or) or all (And) of the search
/// tags; in a matching caption the search tags are removed and the replacement tags are inserted where the first
/// search tag stood (at the front with <see cref="ReplacementFirst"/>, the Colab's "new becomes activation tag").
/// </summary>
public sealed record SearchReplace(IReadOnlyList<string> Search, IReadOnlyList<string> Replace, SearchMode Mode = SearchMode.Or, bool ReplacementFirst = false) : TagOperation
{
    public override string Describe() => $"replace {Quote(Search)} ({Mode.ToString().ToUpperInvariant()}) with {Quote(Replace)}";
    public override List<string> Transform(string image, List<string> tags, IReadOnlyDictionary<string, int> counts)
    {
        var search = Set(Search);
        if (search.Count == 0) throw new ArgumentException("Search tags are empty; name at least one tag to look for.", nameof(Search));
        var present = search.Count(tags.Contains);
        var matches = Mode == SearchMode.Or ? present > 0 : present == search.Count;
        if (!matches) return tags;
        var at = ReplacementFirst ? 0 : tags.FindIndex(search.Contains);
        var kept = new List<string>();
        var insertAt = 0;
        for (var i = 0; i < tags.Count; i++)
        {
            if (i == at) insertAt = kept.Count;
            if (!search.Contains(tags[i])) kept.Add(tags[i]);
        }
        var replacements = Replace.Select(CaptionText.Normalize).Where(t => t.Length > 0 && !kept.Contains(t)).Distinct().ToList();
        kept.InsertRange(insertAt, replacements);
        return kept;
    }
}

/// <summary>Replaces each synonym with the canonical tag (kept once, where the first synonym stood).</summary>
public sealed record MergeTags(IReadOnlyList<string> Synonyms, string Into) : TagOperation
{
    public override string Describe() => $"merge {Quote(Synonyms)} into '{Into}'";
    public override List<string> Transform(string image, List<string> tags, IReadOnlyDictionary<string, int> counts)
    {
        var into = CaptionText.Normalize(Into);
        if (into.Length == 0) throw new ArgumentException("The tag to merge into is empty.", nameof(Into));
        var synonyms = Set(Synonyms);
        var result = new List<string>();
        foreach (var t in tags)
        {
            var mapped = synonyms.Contains(t) ? into : t;
            if (mapped != into || !result.Contains(into)) result.Add(mapped);
        }
        return result;
    }
}

/// <summary>Removes tags carried by fewer than <see cref="MinImages"/> images (except those in <see cref="Keep"/>).</summary>
public sealed record PruneRareTags(int MinImages, IReadOnlyList<string>? Keep = null) : TagOperation
{
    public override string Describe() => $"prune tags on fewer than {MinImages} images";
    public override List<string> Transform(string image, List<string> tags, IReadOnlyDictionary<string, int> counts)
    {
        var keep = Set(Keep ?? []);
        return tags.Where(t => keep.Contains(t) || counts.GetValueOrDefault(t) >= MinImages).ToList();
    }
}

public sealed record RemoveDuplicateTags : TagOperation
{
    public override string Describe() => "remove duplicate tags";
    public override List<string> Transform(string image, List<string> tags, IReadOnlyDictionary<string, int> counts) =>
        tags.Distinct(StringComparer.Ordinal).ToList();
}

/// <summary>Sorts each caption's tags, leaving the first <see cref="KeepFirst"/> (activation tag, keep_tokens) in place.</summary>
public sealed record SortTags(TagSortOrder Order = TagSortOrder.Alphabetical, int KeepFirst = 1) : TagOperation
{
    public override string Describe() => $"sort tags {(Order == TagSortOrder.Frequency ? "by frequency" : "alphabetically")}, first {KeepFirst} kept";
    public override List<string> Transform(string image, List<string> tags, IReadOnlyDictionary<string, int> counts)
    {
        var fixedPart = tags.Take(KeepFirst);
        var rest = tags.Skip(KeepFirst);
        var sorted = Order == TagSortOrder.Frequency
            ? rest.OrderByDescending(t => counts.GetValueOrDefault(t)).ThenBy(t => t, StringComparer.Ordinal)
            : rest.OrderBy(t => t, StringComparer.Ordinal);
        return fixedPart.Concat(sorted).ToList();
    }
}

/// <summary>Adds and removes tags on one image (file name with or without extension).</summary>
public sealed record EditImageTags(string Image, IReadOnlyList<string> Add, IReadOnlyList<string> Remove) : TagOperation
{
    public override string Describe() => $"{System.IO.Path.GetFileName(Image)}: " +
        string.Join("; ", new[] { Add.Count > 0 ? $"add {Quote(Add)}" : null, Remove.Count > 0 ? $"remove {Quote(Remove)}" : null }.Where(s => s is not null));

    public bool Targets(string imagePath) =>
        string.Equals(System.IO.Path.GetFileName(imagePath), System.IO.Path.GetFileName(Image), StringComparison.Ordinal) ||
        string.Equals(System.IO.Path.GetFileNameWithoutExtension(imagePath), System.IO.Path.GetFileName(Image), StringComparison.Ordinal);

    public override List<string> Transform(string image, List<string> tags, IReadOnlyDictionary<string, int> counts)
    {
        if (!Targets(image)) return tags;
        var remove = Set(Remove);
        var result = tags.Where(t => !remove.Contains(t)).ToList();
        foreach (var t in Add.Select(CaptionText.Normalize).Where(t => t.Length > 0))
            if (!result.Contains(t)) result.Add(t);
        return result;
    }
}
