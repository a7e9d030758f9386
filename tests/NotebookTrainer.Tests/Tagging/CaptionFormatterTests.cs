using NotebookTrainer.Tagging;

namespace NotebookTrainer.Tests.Tagging;

public class CaptionFormatterTests
{
    static readonly SelectedTags Tags = new([
        new(0, 1, "general", TagCategory.Rating, 0), new(1, 2, "sensitive", TagCategory.Rating, 0),
        new(2, 3, "questionable", TagCategory.Rating, 0), new(3, 4, "explicit", TagCategory.Rating, 0),
        new(4, 10, "1girl", TagCategory.General, 0), new(5, 11, "long_hair", TagCategory.General, 0),
        new(6, 12, "^_^", TagCategory.General, 0), new(7, 13, "a_b", TagCategory.General, 0),
        new(8, 14, "watermark", TagCategory.General, 0), new(9, 15, "hatsune_miku", TagCategory.Character, 0),
    ]);

    //                                 general sens  quest expl  1girl long  ^_^   a_b   wmark miku
    static readonly float[] Scores = [0.2f, 0.7f, 0.05f, 0.0f, 0.9f, 0.5f, 0.36f, 0.4f, 0.3f, 0.8f];

    static List<string> Caption(TaggerOptions o, IReadOnlyList<string>? existing = null) =>
        CaptionFormatter.Format(CaptionFormatter.Select(Scores, Tags, o), o, existing);

    [Fact]
    public void Thresholds_and_underscores_only_in_tags_longer_than_three()
    {
        Assert.Equal(["1girl", "long hair", "^_^", "a_b", "hatsune miku"], Caption(new TaggerOptions()));
        Assert.Equal(["1girl", "long_hair", "^_^", "a_b", "hatsune_miku"], Caption(new TaggerOptions { RemoveUnderscore = false }));
        Assert.Equal(["1girl", "long hair", "^_^", "a_b", "watermark"], Caption(new TaggerOptions { GeneralThreshold = 0.25f, CharacterThreshold = 0.85f }));
    }

    [Fact]
    public void Undesired_tags_match_with_or_without_underscores()
    {
        Assert.Equal(["1girl", "^_^", "a_b"], Caption(new TaggerOptions { UndesiredTags = ["long_hair", "hatsune miku"] }));
    }

    [Fact]
    public void Character_first_rating_position_and_always_first()
    {
        Assert.Equal(["hatsune miku", "1girl", "long hair", "^_^", "a_b"], Caption(new TaggerOptions { CharacterTagsFirst = true }));
        Assert.Equal("sensitive", Caption(new TaggerOptions { RatingTag = RatingTagPosition.First })[0]);
        Assert.Equal("sensitive", Caption(new TaggerOptions { RatingTag = RatingTagPosition.Last })[^1]);
        Assert.Equal(["a_b", "long hair", "1girl", "^_^", "hatsune miku"], Caption(new TaggerOptions { AlwaysFirstTags = ["a_b", "long_hair", "1boy"] }));
    }

    [Fact]
    public void Append_keeps_the_existing_caption_and_adds_only_new_tags()
    {
        Assert.Equal(["sks", "1girl", "long hair", "^_^", "a_b", "hatsune miku"], Caption(new TaggerOptions { Append = true }, ["sks", "1girl"]));
        Assert.Equal(["1girl", "long hair", "^_^", "a_b", "hatsune miku"], Caption(new TaggerOptions { Append = false }, ["sks"]));
    }
}
