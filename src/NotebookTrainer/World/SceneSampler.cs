using SkiaSharp;

namespace NotebookTrainer.World;

/// <summary>Which scenes a <see cref="SceneSampler"/> draws.</summary>
public sealed record SceneOptions
{
    public IReadOnlyList<string> Shapes { get; init; } = WorldAttributes.SeenShapes;
    public IReadOnlyList<string> Colours { get; init; } = WorldAttributes.SeenColours;
    public IReadOnlyList<string> Backgrounds { get; init; } = WorldAttributes.Backgrounds;

    /// <summary>Chance that a scene holds two objects (never overlapping) instead of one.</summary>
    public double TwoObjects { get; init; } = 0.25;

    /// <summary>Chance that a scene is unnamed clutter instead (random colours and outlines; for the VAE's training set).</summary>
    public double Clutter { get; init; }

    /// <summary>The base model's pretraining world: every background, the seen shapes and colours only.</summary>
    public static SceneOptions Pretraining { get; } = new();

    /// <summary>Every attribute, held-out ones included (the judge's training and test sets).</summary>
    public static SceneOptions Everything { get; } = new() { Shapes = WorldAttributes.Shapes, Colours = WorldAttributes.Colours };

    /// <summary>Only one kind of object, e.g. purple hearts: the concept a LoRA is taught.</summary>
    public static SceneOptions Concept(string colour, string shape) => new() { Shapes = [shape], Colours = [colour] };
}

/// <summary>Draws random scenes; the same seed and calls give the same scenes.</summary>
public sealed class SceneSampler(SceneOptions options, int seed)
{
    const float SingleMin = 0.24f, SingleMax = 0.40f, PairMin = 0.15f, PairMax = 0.23f;

    readonly Random random = new(seed);

    public SceneOptions Options { get; } = options;

    /// <param name="aspect">Width / height of the image the scene is for.</param>
    public Scene Next(double aspect = 1)
    {
        if (Options.Clutter > 0 && random.NextDouble() < Options.Clutter) return NextClutter(aspect);
        var background = Pick(Options.Backgrounds);
        if (random.NextDouble() >= Options.TwoObjects)
            return new Scene(background, [Place(Between(SingleMin, SingleMax), aspect)]);
        while (true)
        {
            var a = Place(Between(PairMin, PairMax), aspect);
            var b = Place(Between(PairMin, PairMax), aspect);
            if (Apart(a.X, a.Y, a.Radius, b.X, b.Y, b.Radius, aspect)) return new Scene(background, [a, b]);
        }
    }

    SceneObject Place(float radius, double aspect)
    {
        var (x, y) = Centre(radius, aspect);
        return new SceneObject(Pick(Options.Shapes), Pick(Options.Colours), x, y, radius);
    }

    Scene NextClutter(double aspect)
    {
        var count = 1 + random.Next(3);
        var objects = new List<ClutterObject>(count);
        for (var i = 0; i < count; i++)
        {
            var radius = Between(0.08f, 0.38f);
            var (x, y) = Centre(radius, aspect);
            var points = random.Next(9);
            objects.Add(new ClutterObject(points is 1 or 2 ? 0 : points, random.NextDouble() < 0.5 ? 1f : Between(0.35f, 0.8f), Between(0.5f, 1f),
                Between(0, 360), ClutterColour(), x, y, radius));
        }
        var background = Pick(WorldAttributes.Backgrounds);
        return new Scene(background, []) { Clutter = objects, BackgroundColour = random.NextDouble() < 0.4 ? ClutterColour() : null };
    }

    /// <summary>
    /// Any colour at all: the VAE is a general image codec, as Stable Diffusion's is, so it must reproduce every colour,
    /// the held-out one too. Only the U-Net's captioned scenes keep the held-out colour and shape out.
    /// </summary>
    SKColor ClutterColour() => new((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256));

    /// <summary>A centre that keeps a circle of <paramref name="radius"/> (fraction of the shorter side) inside the image.</summary>
    (float X, float Y) Centre(float radius, double aspect)
    {
        var (rx, ry) = aspect >= 1 ? (radius / aspect, (double)radius) : (radius, radius * aspect);
        return ((float)(rx + random.NextDouble() * (1 - 2 * rx)), (float)(ry + random.NextDouble() * (1 - 2 * ry)));
    }

    static bool Apart(float x1, float y1, float r1, float x2, float y2, float r2, double aspect)
    {
        // In units of the shorter side.
        var (sx, sy) = aspect >= 1 ? (aspect, 1.0) : (1.0, 1 / aspect);
        var dx = (x1 - x2) * sx;
        var dy = (y1 - y2) * sy;
        return Math.Sqrt(dx * dx + dy * dy) > (r1 + r2) * 1.05;
    }

    float Between(float min, float max) => min + (float)random.NextDouble() * (max - min);

    string Pick(IReadOnlyList<string> items) => items[random.Next(items.Count)];
}
