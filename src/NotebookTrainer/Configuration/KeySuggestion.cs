namespace NotebookTrainer.Configuration;

/// <summary>
/// The "did you mean" of every config file (dataset TOML, training TOML): the known key closest to a misspelt one by
/// edit distance, when it is close enough to be a typo (at most two edits, or a third of the key's length).
/// </summary>
public static class KeySuggestion
{
    public static string? Closest(string key, IEnumerable<string> known)
    {
        var best = known.Select(k => (Key: k, Distance: EditDistance(key, k))).MinBy(x => x.Distance);
        return best.Key != null && best.Distance <= Math.Max(2, key.Length / 3) ? best.Key : null;
    }

    static int EditDistance(string a, string b)
    {
        var previous = Enumerable.Range(0, b.Length + 1).ToArray();
        var current = new int[b.Length + 1];
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}
