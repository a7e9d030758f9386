namespace NotebookTrainer.World;

/// <summary>
/// One object of a scene. <see cref="X"/>/<see cref="Y"/> are the centre as fractions of the image width and height,
/// <see cref="Radius"/> a fraction of the shorter side, so a scene renders at any size.
/// </summary>
public sealed record SceneObject(string Shape, string Colour, float X, float Y, float Radius)
{
    public string Tag => WorldAttributes.ObjectTag(Colour, Shape);
}

/// <summary>
/// A scene of the world: a background and one or two named objects, or unnamed <see cref="Clutter"/> (random
/// colours and outlines that only the VAE's training set uses, so the autoencoder learns colour and outline in
/// general rather than the named colours and shapes alone).
/// </summary>
public sealed record Scene(string Background, IReadOnlyList<SceneObject> Objects)
{
    public IReadOnlyList<ClutterObject> Clutter { get; init; } = [];

    /// <summary>Plain background colour replacing <see cref="Background"/> when set (clutter scenes only).</summary>
    public SkiaSharp.SKColor? BackgroundColour { get; init; }

    /// <summary>Ground-truth tags: each object, two_shapes for two objects, then the background.</summary>
    public IReadOnlyList<string> Tags =>
        Objects.Select(o => o.Tag).Distinct()
            .Concat(Objects.Count == 2 ? [WorldAttributes.TwoShapesTag] : [])
            .Append(WorldAttributes.BackgroundTag(Background))
            .ToArray();

    /// <summary>The caption line: tags with underscores shown as spaces, after <paramref name="activationTag"/> when given.</summary>
    public string Caption(string? activationTag = null) => CaptionFor(Tags, activationTag);

    public static string CaptionFor(IEnumerable<string> tags, string? activationTag = null) =>
        string.Join(", ", (activationTag is null ? [] : new[] { activationTag }).Concat(tags.Select(t => t.Replace('_', ' '))));
}

/// <summary>An unnamed shape: a regular polygon or star with <see cref="Points"/> points, or an ellipse (0 points).</summary>
public sealed record ClutterObject(int Points, float InnerRatio, float Aspect, float Rotation, SkiaSharp.SKColor Colour, float X, float Y, float Radius);
