namespace NotebookTrainer.Tagging;

/// <summary>A tag the model gave a score at or above its threshold.</summary>
public sealed record ScoredTag(string Name, float Score, TagCategory Category);

/// <summary>Turns one image's output vector into caption tags, following kohya's WD14 tagger options.</summary>
public static class CaptionFormatter
{
    /// <summary>The tags that pass the thresholds, in output (CSV) order, with the best rating last in the list.</summary>
    public static List<ScoredTag> Select(ReadOnlySpan<float> scores, SelectedTags tags, TaggerOptions options)
    {
        var picked = new List<ScoredTag>();
        ScoredTag? rating = null;
        for (var i = 0; i < tags.Count; i++)
        {
            var e = tags.Entries[i];
            var s = scores[i];
            switch (e.Category)
            {
                case TagCategory.Rating:
                    if (rating is null || s > rating.Score) rating = new ScoredTag(e.Name, s, e.Category);
                    break;
                case TagCategory.General when s >= options.GeneralThreshold:
                case TagCategory.Character when s >= options.CharacterThreshold:
                    picked.Add(new ScoredTag(e.Name, s, e.Category));
                    break;
            }
        }
        if (rating is not null) picked.Add(rating);
        return picked;
    }

    /// <summary>The caption tag list (display form) for the selected tags; <paramref name="existing"/> is kept in front when appending.</summary>
    public static List<string> Format(IReadOnlyList<ScoredTag> selected, TaggerOptions options, IReadOnlyList<string>? existing = null)
    {
        var undesired = new HashSet<string>(StringComparer.Ordinal);
        foreach (var u in options.UndesiredTags)
        {
            var t = u.Trim();
            if (t.Length == 0) continue;
            undesired.Add(t);
            undesired.Add(t.Replace('_', ' '));
            undesired.Add(t.Replace(' ', '_'));
        }

        string Show(string name) => options.RemoveUnderscore && name.Length > 3 ? name.Replace('_', ' ') : name;

        var characters = selected.Where(t => t.Category == TagCategory.Character).Select(t => Show(t.Name));
        var general = selected.Where(t => t.Category == TagCategory.General).Select(t => Show(t.Name));
        var body = (options.CharacterTagsFirst ? characters.Concat(general) : general.Concat(characters))
            .Where(t => !undesired.Contains(t)).ToList();

        var rating = selected.FirstOrDefault(t => t.Category == TagCategory.Rating) is { } r && !undesired.Contains(Show(r.Name)) ? Show(r.Name) : null;
        if (rating is not null && options.RatingTag == RatingTagPosition.First) body.Insert(0, rating);
        if (rating is not null && options.RatingTag == RatingTagPosition.Last) body.Add(rating);

        // Always-first tags move to the front (after nothing), in the order the option lists them.
        var front = new List<string>();
        foreach (var a in options.AlwaysFirstTags)
        {
            var shown = Show(a.Trim());
            var at = body.FindIndex(t => t == shown || t == a.Trim());
            if (at < 0) continue;
            front.Add(body[at]);
            body.RemoveAt(at);
        }
        body.InsertRange(0, front);

        if (options.Append && existing is { Count: > 0 })
        {
            var result = new List<string>(existing);
            var seen = new HashSet<string>(existing, StringComparer.Ordinal);
            foreach (var t in body) if (seen.Add(t)) result.Add(t);
            return result;
        }
        return body.Distinct(StringComparer.Ordinal).ToList();
    }
}
