namespace NotebookTrainer.Acquisition;

public enum BooruRating { General, Sensitive, Questionable, Explicit }

/// <summary>What to look for: required tags, excluded tags, how many posts, which ratings.</summary>
public sealed record BooruQuery(IReadOnlyList<string> Tags, IReadOnlyList<string>? Exclude = null, int Limit = 100, IReadOnlySet<BooruRating>? Ratings = null)
{
    public static BooruQuery Parse(string tags, int limit = 100, IReadOnlySet<BooruRating>? ratings = null)
    {
        var words = tags.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return new BooruQuery(words.Where(w => !w.StartsWith('-')).ToArray(), words.Where(w => w.StartsWith('-')).Select(w => w[1..]).ToArray(), limit, ratings);
    }
}

/// <summary>One post: where its image is and the tags the site gives it (booru form, underscores).</summary>
public sealed record BooruPost(long Id, string FileUrl, IReadOnlyList<string> Tags, BooruRating Rating, string? Md5)
{
    /// <summary>The tags as a caption line, the way the WD14 tagger would write them.</summary>
    public string Caption(bool removeUnderscore = true) =>
        string.Join(", ", Tags.Select(t => removeUnderscore && t.Length > 3 ? t.Replace('_', ' ') : t));
}

/// <summary>A booru site's public JSON search API.</summary>
public interface IBooruSource
{
    Task<IReadOnlyList<BooruPost>> SearchAsync(BooruQuery query, CancellationToken cancellation = default);
}
