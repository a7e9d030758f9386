using SkiaSharp;

namespace NotebookTrainer.World;

/// <summary>
/// What the generated world is made of: coloured shapes on white, black or gradient backgrounds. One shape
/// (<see cref="HeldOutShape"/>) and one colour (<see cref="HeldOutColour"/>) never appear in the embedded model's
/// pretraining; they are the concepts that a LoRA, DreamBooth or Textual Inversion run has to teach.
/// <para>Tags are booru form with underscores, one per object (<c>red_circle</c>), one for the background
/// (<c>white_background</c>) and <c>two_shapes</c> when there are two objects, as a WD14
/// <c>selected_tags.csv</c> lists them.</para>
/// </summary>
public static class WorldAttributes
{
    public static readonly IReadOnlyList<string> Shapes = ["circle", "square", "triangle", "star", "heart"];
    public static readonly IReadOnlyList<string> Colours = ["red", "green", "blue", "yellow", "purple"];
    public static readonly IReadOnlyList<string> Backgrounds = ["white", "black", "gradient"];

    public const string HeldOutShape = "heart";
    public const string HeldOutColour = "purple";
    public const string TwoShapesTag = "two_shapes";

    public static IReadOnlyList<string> SeenShapes { get; } = Shapes.Where(s => s != HeldOutShape).ToArray();
    public static IReadOnlyList<string> SeenColours { get; } = Colours.Where(c => c != HeldOutColour).ToArray();

    public static bool IsHeldOut(string shapeOrColour) => shapeOrColour is HeldOutShape or HeldOutColour;

    public static string ObjectTag(string colour, string shape) => $"{colour}_{shape}";
    public static string BackgroundTag(string background) => $"{background}_background";

    /// <summary>Every tag a scene can carry, in a fixed order: colour×shape, backgrounds, then two_shapes.</summary>
    public static IReadOnlyList<string> Tags { get; } =
        Colours.SelectMany(c => Shapes.Select(s => ObjectTag(c, s)))
            .Concat(Backgrounds.Select(BackgroundTag))
            .Append(TwoShapesTag)
            .ToArray();

    /// <summary>One caption per tag, after <paramref name="activationTag"/>: the text a tokenizer for the world is built from.</summary>
    public static IEnumerable<string> TokenizerTexts(string activationTag) => Tags.Select(t => Scene.CaptionFor([t], activationTag));

    /// <summary>Reads a tag back: an object tag gives its colour and shape, a background tag its background.</summary>
    public static (string? Colour, string? Shape, string? Background) Parse(string tag)
    {
        var normal = tag.Replace(' ', '_');
        if (normal.EndsWith("_background", StringComparison.Ordinal) && Backgrounds.Contains(normal[..^"_background".Length]))
            return (null, null, normal[..^"_background".Length]);
        var split = normal.IndexOf('_');
        if (split > 0 && Colours.Contains(normal[..split]) && Shapes.Contains(normal[(split + 1)..]))
            return (normal[..split], normal[(split + 1)..], null);
        return (null, null, null);
    }

    public static SKColor ColourOf(string colour) => colour switch
    {
        "red" => new SKColor(220, 30, 30),
        "green" => new SKColor(30, 170, 50),
        "blue" => new SKColor(30, 60, 220),
        "yellow" => new SKColor(240, 210, 20),
        "purple" => new SKColor(150, 40, 200),
        _ => throw new ArgumentException($"unknown colour '{colour}'; the world has {string.Join(", ", Colours)}.", nameof(colour)),
    };
}
