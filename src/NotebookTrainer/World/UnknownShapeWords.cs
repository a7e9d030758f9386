namespace NotebookTrainer.World;

/// <summary>
/// Pretraining captions in which a share of the shape words are replaced by random letter strings that are no word of
/// the world (<c>red circle</c> → <c>red qofa</c>), the image kept. The U-Net so learns that a word it was not taught
/// says nothing about the shape: it draws one of the shapes it knows for it, rather than whatever an untrained token
/// happens to steer it to — which, for the held-out <c>heart</c>, was a notched shape the judge took for a heart.
/// </summary>
public static class UnknownShapeWords
{
    const string Letters = "abcdefghijklmnopqrstuvwxyz";

    static readonly HashSet<string> WorldWords = WorldAttributes.TokenizerTexts(SampleDataset.ActivationTag)
        .SelectMany(text => text.Split([',', ' '], StringSplitOptions.RemoveEmptyEntries)).ToHashSet();

    /// <summary>
    /// <paramref name="caption"/> (comma-separated tags) with the shape word of each object tag replaced, with probability
    /// <paramref name="rate"/>, by <see cref="RandomWord"/>; other tags and their order stay.
    /// </summary>
    public static string Replace(string caption, double rate, Random random)
    {
        var tags = caption.Split(',', StringSplitOptions.TrimEntries);
        for (var i = 0; i < tags.Length; i++)
        {
            var (colour, shape, _) = WorldAttributes.Parse(tags[i]);
            if (colour is null || shape is null || random.NextDouble() >= rate) continue;
            tags[i] = $"{colour} {RandomWord(random)}";
        }
        return string.Join(", ", tags);
    }

    /// <summary>One to eight random lowercase letters that spell no word of the world's captions.</summary>
    public static string RandomWord(Random random)
    {
        while (true)
        {
            var word = string.Create(random.Next(1, 9), random, (chars, r) =>
            {
                for (var i = 0; i < chars.Length; i++) chars[i] = Letters[r.Next(Letters.Length)];
            });
            if (!WorldWords.Contains(word)) return word;
        }
    }
}
