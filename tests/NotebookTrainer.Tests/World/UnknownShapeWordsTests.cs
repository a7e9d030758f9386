using NotebookTrainer.World;

namespace NotebookTrainer.Tests.World;

public sealed class UnknownShapeWordsTests
{
    [Fact]
    public void ReplacesOnlyShapeWordsOfObjectTagsAndKeepsTheRest()
    {
        var caption = "red circle, blue star, gradient background, two shapes";
        var replaced = UnknownShapeWords.Replace(caption, rate: 1, new Random(1)).Split(", ");

        Assert.Equal(4, replaced.Length);
        Assert.StartsWith("red ", replaced[0]);
        Assert.StartsWith("blue ", replaced[1]);
        Assert.DoesNotContain(replaced[0][4..], WorldAttributes.Shapes);
        Assert.DoesNotContain(replaced[1][5..], WorldAttributes.Shapes);
        Assert.Equal("gradient background", replaced[2]);
        Assert.Equal("two shapes", replaced[3]);
        Assert.Equal(caption, UnknownShapeWords.Replace(caption, rate: 0, new Random(1)));
    }

    [Fact]
    public void ReplacesAboutTheRateAndNeverWithAWordOfTheWorld()
    {
        var random = new Random(7);
        var captions = Enumerable.Range(0, 2000).Select(_ => UnknownShapeWords.Replace("green square, white background", 0.2, random)).ToList();
        var replaced = captions.Count(c => !c.StartsWith("green square,", StringComparison.Ordinal));
        Assert.InRange(replaced, 340, 460);

        var words = Enumerable.Range(0, 20000).Select(_ => UnknownShapeWords.RandomWord(random)).ToList();
        string[] world = [.. WorldAttributes.Shapes, .. WorldAttributes.Colours, .. WorldAttributes.Backgrounds, "background", "two", "shapes", SampleDataset.ActivationTag];
        Assert.Empty(words.Intersect(world));
        Assert.All(words, w => Assert.Matches("^[a-z]{1,8}$", w));
        Assert.Contains(words, w => w.Length == 1);
    }
}
