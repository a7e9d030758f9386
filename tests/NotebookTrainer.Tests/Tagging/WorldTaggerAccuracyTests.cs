using NotebookTrainer.Tagging;
using NotebookTrainer.World;

namespace NotebookTrainer.Tests.Tagging;

public class WorldTaggerAccuracyTests
{
    static readonly Scene PurpleHeart = new("white", [new SceneObject("heart", "purple", 0.5f, 0.5f, 0.3f)]);
    static readonly Scene RedCircleBlueStar = new("black",
        [new SceneObject("circle", "red", 0.3f, 0.3f, 0.2f), new SceneObject("star", "blue", 0.7f, 0.7f, 0.2f)]);

    static WorldTaggerAccuracy Measure(params (Scene Truth, string[] Tags)[] judged) =>
        WorldTaggerAccuracy.Measure(judged.Select(j => (j.Truth, (IReadOnlyList<string>)j.Tags)));

    [Fact]
    public void Ground_truth_tags_score_every_attribute_right_in_either_spelling()
    {
        var accuracy = Measure(
            (PurpleHeart, ["purple heart", "white background", "general", "sks"]),
            (RedCircleBlueStar, ["red_circle", "blue_star", "two_shapes", "black_background"]));
        Assert.Equal(2, accuracy.Images);
        Assert.All(accuracy.Attributes, a => Assert.Equal(1.0, a.Accuracy));
        Assert.Equal(1.0, accuracy.WorstTarget);
        Assert.Equal(["colour", "shape", "background", "object count", "colour on purple", "shape on heart"], accuracy.Targets.Select(t => t.Name));
        var purple = accuracy.Value(WorldTaggerAccuracy.Colour, "purple");
        Assert.True(purple.HeldOut);
        Assert.Equal((1, 1, 1, 0, 0), (purple.Images, purple.AttributeCorrect, purple.TruePositives, purple.FalsePositives, purple.FalseNegatives));
    }

    [Fact]
    public void A_wrong_colour_costs_colour_but_not_shape_and_counts_as_a_false_purple()
    {
        var accuracy = Measure((RedCircleBlueStar, ["red_circle", "purple_star", "two_shapes", "black_background"]), (PurpleHeart, ["purple_heart", "white_background"]));
        Assert.Equal(0.5, accuracy[WorldTaggerAccuracy.Colour].Accuracy);
        Assert.Equal(1.0, accuracy[WorldTaggerAccuracy.Shape].Accuracy);
        Assert.Equal(0.5, accuracy[WorldTaggerAccuracy.Objects].Accuracy);
        var purple = accuracy.Value(WorldTaggerAccuracy.Colour, "purple");
        Assert.Equal(0.5, purple.Precision);
        Assert.Equal(1.0, purple.Recall);
        Assert.Equal(1.0, purple.Accuracy);
        var blue = accuracy.Value(WorldTaggerAccuracy.Colour, "blue");
        Assert.Equal((1, 0, 0.0), (blue.Images, blue.AttributeCorrect, blue.Recall));
        var purpleStar = accuracy.Tags.Single(t => t.Tag == "purple_star");
        Assert.Equal((0, 1, 0), (purpleStar.TruePositives, purpleStar.FalsePositives, purpleStar.FalseNegatives));
    }

    [Fact]
    public void An_extra_colour_a_missing_shape_two_backgrounds_and_a_missing_count_are_each_wrong()
    {
        var extraColour = Measure((PurpleHeart, ["purple_heart", "red_heart", "white_background"]));
        Assert.Equal((0.0, 1.0), (extraColour[WorldTaggerAccuracy.Colour].Accuracy, extraColour[WorldTaggerAccuracy.Shape].Accuracy));

        var missingShape = Measure((RedCircleBlueStar, ["red_circle", "two_shapes", "black_background"]));
        Assert.Equal((0.0, 0.0), (missingShape[WorldTaggerAccuracy.Shape].Accuracy, missingShape[WorldTaggerAccuracy.Colour].Accuracy));
        Assert.Equal(1.0, missingShape[WorldTaggerAccuracy.ObjectCount].Accuracy);

        var twoBackgrounds = Measure((PurpleHeart, ["purple_heart", "white_background", "gradient_background"]));
        Assert.Equal(0.0, twoBackgrounds[WorldTaggerAccuracy.Background].Accuracy);
        Assert.Equal(0.0, twoBackgrounds[WorldTaggerAccuracy.AllTags].Accuracy);
        Assert.Equal(1.0, twoBackgrounds[WorldTaggerAccuracy.Objects].Accuracy);

        var missingCount = Measure((RedCircleBlueStar, ["red_circle", "blue_star", "black_background"]), (PurpleHeart, ["purple_heart", "two_shapes", "white_background"]));
        Assert.Equal(0.0, missingCount[WorldTaggerAccuracy.ObjectCount].Accuracy);
        Assert.Equal(0.0, missingCount.WorstTarget);
        Assert.Equal(0.0, missingCount.Value(WorldTaggerAccuracy.ObjectCount, "2").Recall);
    }

    [Fact]
    public void Swapped_colours_keep_colour_and_shape_right_but_not_the_objects()
    {
        var accuracy = Measure((RedCircleBlueStar, ["blue_circle", "red_star", "two_shapes", "black_background"]));
        Assert.Equal(1.0, accuracy[WorldTaggerAccuracy.Colour].Accuracy);
        Assert.Equal(1.0, accuracy[WorldTaggerAccuracy.Shape].Accuracy);
        Assert.Equal(0.0, accuracy[WorldTaggerAccuracy.Objects].Accuracy);
        Assert.Contains("colour purple*", accuracy.ToString());
    }
}
