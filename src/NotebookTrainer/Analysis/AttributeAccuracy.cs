using System.Globalization;
using System.Text;
using System.Text.Json;
using NotebookTrainer.Display;
using NotebookTrainer.IO;
using NotebookTrainer.Progress;
using NotebookTrainer.Sampling;
using NotebookTrainer.Tagging;
using NotebookTrainer.World;
using static TorchSharp.torch;

namespace NotebookTrainer.Analysis;

/// <summary>A prompt asking for one object of the world: its colour, shape and background, in the words of the captions.</summary>
public sealed record AttributePrompt(string Colour, string Shape, string Background, string? ActivationTag = null)
{
    public string Text => Scene.CaptionFor([WorldAttributes.ObjectTag(Colour, Shape), WorldAttributes.BackgroundTag(Background)], ActivationTag);

    /// <summary>The object the prompt asks for, as a tag (<c>purple_heart</c>).</summary>
    public string Concept => WorldAttributes.ObjectTag(Colour, Shape);

    /// <summary>Every (colour, shape, background) combination of the given attributes.</summary>
    public static IReadOnlyList<AttributePrompt> Grid(IEnumerable<string> colours, IEnumerable<string> shapes, IEnumerable<string> backgrounds, string? activationTag = null) =>
        colours.SelectMany(c => shapes.SelectMany(s => backgrounds.Select(b => new AttributePrompt(c, s, b, activationTag)))).ToList();
}

/// <summary>One judged sample: what the prompt asked for and what the judge saw.</summary>
public sealed record JudgedSample(AttributePrompt Prompt, long Seed, IReadOnlyList<string> Tags, string ImagePath)
{
    IEnumerable<(string? Colour, string? Shape, string? Background)> Parsed => Tags.Select(WorldAttributes.Parse);

    public bool ColourRight => Parsed.Any(t => t.Colour == Prompt.Colour);
    public bool ShapeRight => Parsed.Any(t => t.Shape == Prompt.Shape);
    public bool BackgroundRight => Parsed.Any(t => t.Background == Prompt.Background);
    public bool ConceptRight => Tags.Contains(Prompt.Concept);
}

/// <summary>Sampling settings of a measurement; the defaults are the sampling defaults (ddim, 30 steps, CFG 7.5).</summary>
public sealed record AccuracyOptions
{
    public int Seeds { get; init; } = 8;
    public long FirstSeed { get; init; } = 1;
    public int Width { get; init; } = WorldModel.Resolution;
    public int Height { get; init; } = WorldModel.Resolution;
    public string Sampler { get; init; } = "ddim";
    public int Steps { get; init; } = new SamplePrompt("").Steps;
    public double CfgScale { get; init; } = new SamplePrompt("").CfgScale;
    public int BatchSize { get; init; } = 48;
    public string Label { get; init; } = "";
}

/// <summary>
/// Does the model draw what it is asked for? Samples every prompt with <see cref="AccuracyOptions.Seeds"/> seeds, tags
/// each image with a judge (a WD14-format tagger that knows the world, e.g. <see cref="WorldModel.TaggerDirectory"/>), and
/// counts, per attribute, the fraction of samples whose tags contain what the prompt asked for: the colour (some object
/// of that colour), the shape (some object of that shape), the background, and the concept (one object of that colour
/// and shape). Seen and held-out attributes are reported apart.
/// </summary>
public sealed class AttributeAccuracy : IHtmlRenderable
{
    AttributeAccuracy(string label, IReadOnlyList<JudgedSample> samples)
    {
        Label = label;
        Samples = samples;
    }

    public string Label { get; }
    public IReadOnlyList<JudgedSample> Samples { get; }

    /// <param name="imageDir">Where the samples are written as PNG (the judge reads files, as it reads a dataset).</param>
    /// <param name="loras">Networks applied at their weights while sampling.</param>
    public static AttributeAccuracy Measure(SampleImageGenerator generator, WdTaggerModel judge, IReadOnlyList<AttributePrompt> prompts, string imageDir,
        AccuracyOptions? options = null, IReadOnlyList<(Networks.LoraNetwork Network, float Weight)>? loras = null,
        IProgress<ProgressUpdate>? progress = null, CancellationToken cancellationToken = default)
    {
        options ??= new AccuracyOptions();
        using var applied = SampleImageGenerator.ApplyLoras(loras);
        var work = prompts.SelectMany(p => Enumerable.Range(0, options.Seeds).Select(k => (Prompt: p, Seed: options.FirstSeed + k))).ToList();
        var tracker = new ProgressTracker($"judging {options.Label}".TrimEnd(), work.Count, progress);
        var paths = new List<string>(work.Count);
        Directory.CreateDirectory(imageDir);
        foreach (var chunk in work.Chunk(options.BatchSize))
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var items = chunk.Select(w => (new SamplePrompt(w.Prompt.Text) { Width = options.Width, Height = options.Height, CfgScale = options.CfgScale }, w.Seed)).ToList();
            var images = generator.GenerateBatch(items, options.Sampler, options.Steps, cancellationToken);
            for (var i = 0; i < chunk.Length; i++)
            {
                using var bitmap = ImageTensors.ToBitmap(images[i]);
                var path = Path.Combine(imageDir, FileName(chunk[i].Prompt, chunk[i].Seed));
                AtomicFile.WriteAllBytes(path, ImageTensors.ToPng(bitmap));
                paths.Add(path);
            }
            tracker.Advance(chunk.Length, chunk[^1].Prompt.Text);
        }
        var tagged = ImageTagger.Tag(judge, paths, new TaggerOptions { WriteCaptions = false, RemoveUnderscore = false }).Results
            .ToDictionary(r => Path.GetFullPath(r.ImagePath), r => r.Caption);
        var samples = work.Select((w, i) => new JudgedSample(w.Prompt, w.Seed, tagged.TryGetValue(Path.GetFullPath(paths[i]), out var tags) ? tags : [], paths[i])).ToList();
        return new AttributeAccuracy(options.Label, samples);
    }

    static string FileName(AttributePrompt prompt, long seed) =>
        string.Create(CultureInfo.InvariantCulture, $"{prompt.Colour}-{prompt.Shape}-{prompt.Background}-{seed:D4}.png");

    /// <summary>One row per attribute value: how often the samples that asked for it show it.</summary>
    public IReadOnlyList<AccuracyRow> Rows()
    {
        var rows = new List<AccuracyRow>();
        void Add(string attribute, Func<JudgedSample, string> value, Func<JudgedSample, bool> right)
        {
            foreach (var group in Samples.GroupBy(value).OrderBy(g => g.Key, StringComparer.Ordinal))
                rows.Add(new AccuracyRow(attribute, group.Key, IsHeldOut(attribute, group.Key), group.Count(), group.Count(right) / (double)group.Count()));
        }
        Add("colour", s => s.Prompt.Colour, s => s.ColourRight);
        Add("shape", s => s.Prompt.Shape, s => s.ShapeRight);
        Add("background", s => s.Prompt.Background, s => s.BackgroundRight);
        Add("concept", s => s.Prompt.Concept, s => s.ConceptRight);
        return rows;
    }

    static bool IsHeldOut(string attribute, string value) => attribute switch
    {
        "concept" => value.Split('_').Any(WorldAttributes.IsHeldOut),
        "background" => false,
        _ => WorldAttributes.IsHeldOut(value),
    };

    /// <summary>Accuracy over the samples whose prompt asked for an attribute value of that kind, seen or held out (null when none did).</summary>
    public double? Accuracy(string attribute, bool heldOut)
    {
        var rows = Rows().Where(r => r.Attribute == attribute && r.HeldOut == heldOut).ToList();
        var n = rows.Sum(r => r.Samples);
        return n == 0 ? null : rows.Sum(r => r.Accuracy * r.Samples) / n;
    }

    /// <summary>Accuracy of one attribute value, e.g. ("concept", "purple_heart").</summary>
    public double? Accuracy(string attribute, string value) => Rows().FirstOrDefault(r => r.Attribute == attribute && r.Value == value)?.Accuracy;

    public IReadOnlyList<(string Attribute, bool HeldOut, double Accuracy)> Summary() =>
        new[] { "colour", "shape", "background", "concept" }
            .SelectMany(a => new[] { false, true }.Select(h => (a, h, Accuracy(a, h))))
            .Where(x => x.Item3 is not null)
            .Select(x => (x.a, x.h, x.Item3!.Value))
            .ToList();

    public string ToJson() => JsonSerializer.Serialize(new
    {
        label = Label,
        samples = Samples.Count,
        summary = Summary().Select(s => new { attribute = s.Attribute, held_out = s.HeldOut, accuracy = Math.Round(s.Accuracy, 4) }),
        rows = Rows().Select(r => new { attribute = r.Attribute, value = r.Value, held_out = r.HeldOut, samples = r.Samples, accuracy = Math.Round(r.Accuracy, 4) }),
    }, new JsonSerializerOptions { WriteIndented = true });

    public override string ToString()
    {
        var sb = new StringBuilder($"attribute accuracy{(Label == "" ? "" : $" ({Label})")}, {Samples.Count} samples\n");
        foreach (var (attribute, heldOut, accuracy) in Summary())
            sb.Append(CultureInfo.InvariantCulture, $"  {attribute,-10} {(heldOut ? "held out" : "seen"),-8} {accuracy,7:P1}\n");
        return sb.ToString();
    }

    public string ToHtml()
    {
        var summary = Html.Table(["attribute", "", "accuracy"], Summary().Select(s => new object?[] { s.Attribute, s.HeldOut ? "held out" : "seen", s.Accuracy.ToString("P1", CultureInfo.InvariantCulture) }));
        var rows = Html.Table(["attribute", "value", "samples", "accuracy"], Rows().Select(r => new object?[] { r.Attribute, r.Value + (r.HeldOut ? " (held out)" : ""), r.Samples, r.Accuracy.ToString("P1", CultureInfo.InvariantCulture) }));
        return $"<div class=\"nt-attribute-accuracy\"><b>Attribute accuracy{(Label == "" ? "" : " — " + Html.Escape(Label))}</b> ({Samples.Count} samples, judged by the world tagger){summary}<details><summary>per value</summary>{rows}</details></div>";
    }
}

/// <summary>How often samples asking for <see cref="Value"/> of <see cref="Attribute"/> show it.</summary>
public sealed record AccuracyRow(string Attribute, string Value, bool HeldOut, int Samples, double Accuracy);
