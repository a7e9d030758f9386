using NotebookTrainer.Captions;
using NotebookTrainer.Curation;

namespace NotebookTrainer.Tests.Curation;

public class CaptionTextTests
{
    [Theory]
    [InlineData("a, b, c", new[] { "a", "b", "c" })]
    [InlineData("a,b ,  c,,d,", new[] { "a", "b", "c", "d" })]
    [InlineData(" , ,", new string[0])]
    [InlineData("a\tb,  c\n d", new[] { "a b", "c", "d" })]
    [InlineData("赤い、青い，緑", new[] { "赤い", "青い", "緑" })]
    [InlineData("\uFEFFcafe\u0301, ^_^", new[] { "café", "^_^" })]
    [InlineData("x, x, y", new[] { "x", "x", "y" })]
    public void Parses_odd_captions(string caption, string[] expected) => Assert.Equal(expected, CaptionText.Parse(caption));

    [Fact]
    public void Formats_with_comma_space() => Assert.Equal("a, b c", CaptionText.Format(["a", "b c"]));
}
