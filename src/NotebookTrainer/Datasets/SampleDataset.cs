using SkiaSharp;

namespace NotebookTrainer.Datasets;

/// <summary>One generated sample image with its ground-truth tags (booru form, underscores, no activation tag).</summary>
public sealed record SampleImage(string Path, int Width, int Height, IReadOnlyList<string> Tags);

/// <summary>
/// A small synthetic dataset the project draws itself, so notebooks, tests and benchmarks need no download:
/// coloured shapes on plain or gradient backgrounds, in the sizes and aspect ratios that exercise bucketing.
/// <para>Layout (kohya legacy folder naming, usable as <c>train_data_dir</c>):
/// <c>&lt;dir&gt;/10_sks shape/000.png</c> + <c>000.txt</c>, …</para>
/// <para>Tags are booru form with underscores (<c>red_circle</c>, <c>white_background</c>, <c>two_shapes</c>),
/// as in a WD14 <c>selected_tags.csv</c>. Caption files hold the activation tag first, then the tags with
/// underscores shown as spaces (what the WD14 tagger writes with remove_underscore):
/// <c>sks, red circle, white background</c>.</para>
/// Same seed and count → byte-identical files.
/// </summary>
public static class SampleDataset
{
    public const string ActivationTag = "sks";
    public const int Repeats = 10;
    public const string ClassTokens = "sks shape";
    public static readonly string FolderName = $"{Repeats}_{ClassTokens}";
    public const int DefaultCount = 32;

    public static readonly IReadOnlyList<string> Shapes = ["circle", "square", "triangle", "star"];
    public static readonly IReadOnlyList<string> Colours = ["red", "green", "blue", "yellow"];
    public static readonly IReadOnlyList<string> Backgrounds = ["white", "black", "gradient"];
    public const string TwoShapesTag = "two_shapes";

    /// <summary>Width×height cycle: square, landscape, portrait, wide, and a few small images that need upscaling.</summary>
    static readonly (int W, int H)[] Sizes =
    [
        (512, 512), (768, 512), (512, 768), (640, 384), (384, 640), (1024, 768), (768, 1024), (512, 512),
        (128, 128), (160, 96), (96, 160), (576, 448),
    ];

    /// <summary>Every tag an image can carry, in a fixed order: colour×shape tags, background tags, then two_shapes.</summary>
    public static IReadOnlyList<string> AllTags { get; } =
        Colours.SelectMany(c => Shapes.Select(s => $"{c}_{s}"))
            .Concat(Backgrounds.Select(b => $"{b}_background"))
            .Append(TwoShapesTag)
            .ToArray();

    /// <summary>All words the captions use (activation tag included), sorted ordinally; for building a tokenizer vocabulary.</summary>
    public static IReadOnlyList<string> Vocabulary { get; } =
        AllTags.SelectMany(t => t.Split('_'))
            .Append(ActivationTag)
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .ToArray();

    /// <summary>The caption line written for a list of ground-truth tags.</summary>
    public static string CaptionFor(IEnumerable<string> tags) =>
        string.Join(", ", tags.Select(t => t.Replace('_', ' ')).Prepend(ActivationTag));

    /// <summary>
    /// Draws the dataset into <c>&lt;dir&gt;/10_sks shape/</c> (created; existing files of the same names are replaced atomically).
    /// Returns the images in file-name order with absolute paths.
    /// </summary>
    public static IReadOnlyList<SampleImage> Generate(string dir, int seed = 42, int? count = null)
    {
        var n = count ?? DefaultCount;
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(count), n, "count must be at least 1.");
        var folder = System.IO.Path.GetFullPath(System.IO.Path.Combine(dir, FolderName));
        Directory.CreateDirectory(folder);
        var rng = new Random(seed);
        var images = new List<SampleImage>(n);
        for (var i = 0; i < n; i++)
        {
            var (w, h) = Sizes[i % Sizes.Length];
            // Cycle colour×shape and background so every tag occurs in the default set; placement is random.
            var first = new ShapeSpec(Shapes[i % Shapes.Count], Colours[i / Shapes.Count % Colours.Count]);
            var background = Backgrounds[(i + i / Sizes.Length) % Backgrounds.Count];
            ShapeSpec? second = null;
            if (i % 3 == 2)
            {
                var other = new ShapeSpec(Shapes[rng.Next(Shapes.Count)], Colours[rng.Next(Colours.Count)]);
                if (other != first) second = other;
            }

            var tags = new List<string> { first.Tag };
            if (second is { } s) tags.Add(s.Tag);
            if (second is not null) tags.Add(TwoShapesTag);
            tags.Add($"{background}_background");

            var stem = i.ToString("000");
            var path = System.IO.Path.Combine(folder, stem + ".png");
            var png = Draw(w, h, background, second is null ? [first] : [first, second.Value], rng);
            IO.AtomicFile.WriteAllBytes(path, png);
            IO.AtomicFile.WriteAllText(System.IO.Path.Combine(folder, stem + ".txt"), CaptionFor(tags) + "\n");
            images.Add(new SampleImage(path, w, h, tags));
        }
        return images;
    }

    readonly record struct ShapeSpec(string Shape, string Colour)
    {
        public string Tag => $"{Colour}_{Shape}";
    }

    static byte[] Draw(int width, int height, string background, ShapeSpec[] shapes, Random rng)
    {
        using var surface = SKSurface.Create(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul))
            ?? throw new InvalidOperationException($"SkiaSharp could not create a {width}x{height} surface.");
        var canvas = surface.Canvas;
        PaintBackground(canvas, width, height, background);

        var side = Math.Min(width, height);
        // Two shapes go side by side along the long axis so they never hide each other.
        for (var k = 0; k < shapes.Length; k++)
        {
            var size = (float)(side * (shapes.Length == 1 ? 0.45 + 0.25 * rng.NextDouble() : 0.35 + 0.1 * rng.NextDouble()));
            float cx, cy;
            var jitter = (float)((rng.NextDouble() - 0.5) * side * 0.1);
            if (shapes.Length == 1) { cx = width / 2f + jitter; cy = height / 2f - jitter; }
            else if (width >= height) { cx = width * (k == 0 ? 0.27f : 0.73f); cy = height / 2f + jitter; }
            else { cx = width / 2f + jitter; cy = height * (k == 0 ? 0.27f : 0.73f); }
            DrawShape(canvas, shapes[k], cx, cy, size / 2);
        }

        using var image = surface.Snapshot();
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    static void PaintBackground(SKCanvas canvas, int width, int height, string background)
    {
        switch (background)
        {
            case "white": canvas.Clear(SKColors.White); break;
            case "black": canvas.Clear(SKColors.Black); break;
            case "gradient":
                using (var shader = SKShader.CreateLinearGradient(new SKPoint(0, 0), new SKPoint(width, height),
                           [new SKColor(40, 40, 70), new SKColor(200, 200, 220)], SKShaderTileMode.Clamp))
                using (var paint = new SKPaint { Shader = shader })
                    canvas.DrawRect(0, 0, width, height, paint);
                break;
            default: throw new ArgumentException($"unknown background '{background}'", nameof(background));
        }
    }

    static SKColor ColourOf(string colour) => colour switch
    {
        "red" => new SKColor(220, 30, 30),
        "green" => new SKColor(30, 170, 50),
        "blue" => new SKColor(30, 60, 220),
        "yellow" => new SKColor(240, 210, 20),
        _ => throw new ArgumentException($"unknown colour '{colour}'", nameof(colour)),
    };

    static void DrawShape(SKCanvas canvas, ShapeSpec spec, float cx, float cy, float radius)
    {
        using var paint = new SKPaint { Color = ColourOf(spec.Colour), IsAntialias = true, Style = SKPaintStyle.Fill };
        switch (spec.Shape)
        {
            case "circle": canvas.DrawCircle(cx, cy, radius, paint); break;
            case "square": canvas.DrawRect(cx - radius, cy - radius, 2 * radius, 2 * radius, paint); break;
            case "triangle": using (var path = Polygon(cx, cy, radius, 3, 1f)) canvas.DrawPath(path, paint); break;
            case "star": using (var path = Polygon(cx, cy, radius, 5, 0.42f)) canvas.DrawPath(path, paint); break;
            default: throw new ArgumentException($"unknown shape '{spec.Shape}'", nameof(spec));
        }
    }

    /// <summary>A regular polygon (innerRatio 1) or a star (inner vertices at innerRatio × radius), point up.</summary>
    static SKPath Polygon(float cx, float cy, float radius, int points, float innerRatio)
    {
        var path = new SKPath();
        var star = innerRatio < 1f;
        var vertices = star ? points * 2 : points;
        for (var v = 0; v < vertices; v++)
        {
            var r = star && v % 2 == 1 ? radius * innerRatio : radius;
            var angle = -Math.PI / 2 + v * 2 * Math.PI / vertices;
            var p = new SKPoint(cx + (float)(r * Math.Cos(angle)), cy + (float)(r * Math.Sin(angle)));
            if (v == 0) path.MoveTo(p); else path.LineTo(p);
        }
        path.Close();
        return path;
    }
}
