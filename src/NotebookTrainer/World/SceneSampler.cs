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

    /// <summary>
    /// <see cref="Backgrounds"/> in turn instead of at random: a small set shows each as often as the list says (a
    /// background listed twice comes twice as often).
    /// </summary>
    public bool CycleBackgrounds { get; init; }

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
    const float SingleMin = 0.26f, SingleMax = 0.38f, PairMin = 0.14f, PairMax = 0.19f;

    /// <summary>How far a single object's centre strays from the image centre, as a fraction of the image.</summary>
    const float SingleJitter = 0.12f;

    readonly Random random = new(seed);
    int scenes;

    public SceneOptions Options { get; } = options;

    /// <summary>
    /// One object near the centre, or two side by side along the longer side (either way on a square image), each at
    /// a random size and offset: enough variety to tell the shapes apart anywhere, little enough that a small model
    /// learns them in minutes.
    /// </summary>
    /// <param name="aspect">Width / height of the image the scene is for.</param>
    public Scene Next(double aspect = 1)
    {
        if (Options.Clutter > 0 && random.NextDouble() < Options.Clutter) return NextClutter(aspect);
        var background = Options.CycleBackgrounds ? Options.Backgrounds[scenes++ % Options.Backgrounds.Count] : Pick(Options.Backgrounds);
        if (random.NextDouble() >= Options.TwoObjects)
        {
            var radius = Between(SingleMin, SingleMax);
            var (x, y) = Centre(radius, aspect, 0.5f + Between(-SingleJitter, SingleJitter), 0.5f + Between(-SingleJitter, SingleJitter));
            return new Scene(background, [Named(radius, x, y)]);
        }
        var horizontal = aspect > 1 || (aspect == 1 && random.NextDouble() < 0.5);
        var objects = new SceneObject[2];
        for (var k = 0; k < 2; k++)
        {
            var radius = Between(PairMin, PairMax);
            var along = (k == 0 ? 0.28f : 0.72f) + Between(-0.03f, 0.03f);
            var across = 0.5f + Between(-0.08f, 0.08f);
            var (x, y) = Centre(radius, aspect, horizontal ? along : across, horizontal ? across : along);
            objects[k] = Named(radius, x, y);
        }
        return new Scene(background, objects);
    }

    SceneObject Named(float radius, float x, float y) => new(Pick(Options.Shapes), Pick(Options.Colours), x, y, radius);

    Scene NextClutter(double aspect)
    {
        var count = 1 + random.Next(3);
        var objects = new List<ClutterObject>(count);
        for (var i = 0; i < count; i++)
        {
            var radius = Between(0.08f, 0.38f);
            var (x, y) = Anywhere(radius, aspect);
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

    /// <summary>The wanted centre, moved just enough that a circle of <paramref name="radius"/> (fraction of the shorter side) stays inside the image.</summary>
    static (float X, float Y) Centre(float radius, double aspect, float x, float y)
    {
        var (rx, ry) = aspect >= 1 ? ((float)(radius / aspect), radius) : (radius, (float)(radius * aspect));
        return (Math.Clamp(x, rx, 1 - rx), Math.Clamp(y, ry, 1 - ry));
    }

    /// <summary>A random centre that keeps a circle of <paramref name="radius"/> inside the image (clutter goes anywhere).</summary>
    (float X, float Y) Anywhere(float radius, double aspect) => Centre(radius, aspect, (float)random.NextDouble(), (float)random.NextDouble());

    float Between(float min, float max) => min + (float)random.NextDouble() * (max - min);

    string Pick(IReadOnlyList<string> items) => items[random.Next(items.Count)];
}
