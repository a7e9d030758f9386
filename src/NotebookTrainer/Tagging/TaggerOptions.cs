namespace NotebookTrainer.Tagging;

public enum RatingTagPosition { Off, First, Last }

/// <summary>The knobs kohya's tag_images_by_wd14_tagger.py and the tagging Colabs expose, with their defaults.</summary>
public sealed record TaggerOptions
{
    public float GeneralThreshold { get; init; } = 0.35f;
    public float CharacterThreshold { get; init; } = 0.35f;
    /// <summary>Tags never written (compared with and without underscores).</summary>
    public IReadOnlyList<string> UndesiredTags { get; init; } = [];
    /// <summary>Underscores become spaces, but only in tags longer than 3 characters so emoticons such as <c>^_^</c> survive.</summary>
    public bool RemoveUnderscore { get; init; } = true;
    public bool CharacterTagsFirst { get; init; }
    public RatingTagPosition RatingTag { get; init; } = RatingTagPosition.Off;
    /// <summary>Tags moved to the front of the caption when present, in this order (e.g. 1girl, 1boy).</summary>
    public IReadOnlyList<string> AlwaysFirstTags { get; init; } = [];
    /// <summary>Keep an existing caption's tags and add the new ones after them instead of overwriting it.</summary>
    public bool Append { get; init; }
    public string CaptionExtension { get; init; } = ".txt";
    public string Separator { get; init; } = ", ";
    public int BatchSize { get; init; } = 8;
    public bool Recursive { get; init; }
    /// <summary>Decode/preprocess workers feeding the session; 0 = one per core.</summary>
    public int PreprocessWorkers { get; init; }
    /// <summary>When false nothing is written: captions are only returned (for previews and tests).</summary>
    public bool WriteCaptions { get; init; } = true;
}
