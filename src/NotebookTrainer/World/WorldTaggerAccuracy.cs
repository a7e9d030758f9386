using System.Globalization;
using System.Text;
using NotebookTrainer.Tagging;

namespace NotebookTrainer.World;

/// <summary>How many images had one attribute judged right.</summary>
public sealed record AttributeScore(string Attribute, int Correct, int Images)
{
    public double Accuracy => Images == 0 ? double.NaN : (double)Correct / Images;
}

/// <summary>
/// One value of an attribute (colour <c>purple</c>, shape <c>heart</c>, background <c>black</c>, object count
/// <c>2</c>): <see cref="Images"/> is how many images truly hold it, <see cref="AttributeCorrect"/> how many of those
/// had the whole attribute judged right; precision and recall count images whose tags name the value.
/// </summary>
public sealed record ValueScore(string Attribute, string Value, bool HeldOut, int Images, int AttributeCorrect, int TruePositives, int FalsePositives, int FalseNegatives)
{
    public double Accuracy => Images == 0 ? double.NaN : (double)AttributeCorrect / Images;
    public double Precision => TruePositives + FalsePositives == 0 ? double.NaN : (double)TruePositives / (TruePositives + FalsePositives);
    public double Recall => TruePositives + FalseNegatives == 0 ? double.NaN : (double)TruePositives / (TruePositives + FalseNegatives);
}

/// <summary>Per-tag counts over images: true positives, false positives (tag given, not true), false negatives (true, not given).</summary>
public sealed record TagScore(string Tag, int TruePositives, int FalsePositives, int FalseNegatives)
{
    public double Precision => TruePositives + FalsePositives == 0 ? double.NaN : (double)TruePositives / (TruePositives + FalsePositives);
    public double Recall => TruePositives + FalseNegatives == 0 ? double.NaN : (double)TruePositives / (TruePositives + FalseNegatives);
}

/// <summary>
/// How well tags match known scenes of the world. An image's attribute is correct when:
/// <list type="bullet">
/// <item><b>colour</b>: the colours named by its object tags (<c>purple_heart</c> → purple) are exactly the colours of
/// its objects — each true colour named, no other colour;</item>
/// <item><b>shape</b>: likewise the shapes named by its object tags are exactly the shapes of its objects;</item>
/// <item><b>background</b>: it carries exactly one background tag, the true one;</item>
/// <item><b>object count</b>: it carries <c>two_shapes</c> exactly when the scene has two objects;</item>
/// <item><b>objects</b>: its object tags are exactly the scene's (colour and shape bound to the same object);</item>
/// <item><b>all tags</b>: its world tags are exactly the scene's <see cref="Scene.Tags"/>.</item>
/// </list>
/// Tags outside the world (ratings, an activation tag) are ignored; spaces and underscores are the same.
/// </summary>
public sealed record WorldTaggerAccuracy(int Images, IReadOnlyList<AttributeScore> Attributes, IReadOnlyList<ValueScore> Values, IReadOnlyList<TagScore> Tags)
{
    public const string Colour = "colour", Shape = "shape", Background = "background", ObjectCount = "object count", Objects = "objects", AllTags = "all tags";

    /// <summary>The attributes the judge is held to: colour, shape, background and object count.</summary>
    public static IReadOnlyList<string> JudgedAttributes { get; } = [Colour, Shape, Background, ObjectCount];

    public AttributeScore this[string attribute] => Attributes.Single(a => a.Attribute == attribute);

    public ValueScore Value(string attribute, string value) => Values.Single(v => v.Attribute == attribute && v.Value == value);

    /// <summary>
    /// The figures the judge is held to (≥ 95% for the full judge): each of <see cref="JudgedAttributes"/> over all
    /// images, and each attribute over the images that hold a held-out value (colour on purple objects, shape on hearts).
    /// </summary>
    public IReadOnlyList<(string Name, double Accuracy)> Targets =>
        JudgedAttributes.Select(a => (a, this[a].Accuracy))
            .Concat(Values.Where(v => v.HeldOut && v.Images > 0).Select(v => ($"{v.Attribute} on {v.Value}", v.Accuracy)))
            .ToList();

    public double WorstTarget => Targets.Min(t => t.Accuracy);

    public static WorldTaggerAccuracy Measure(IEnumerable<(Scene Truth, IReadOnlyList<string> Tags)> judged)
    {
        var attributes = new[] { Colour, Shape, Background, ObjectCount, Objects, AllTags }.ToDictionary(a => a, _ => 0);
        var values = AttributeValues().ToDictionary(v => v, _ => new int[4]);
        var tags = WorldAttributes.Tags.ToDictionary(t => t, _ => new int[3]);
        var images = 0;
        foreach (var (truth, given) in judged)
        {
            images++;
            var predicted = given.Select(t => t.Replace(' ', '_')).Where(tags.ContainsKey).ToHashSet();
            var actual = truth.Tags.ToHashSet();
            var p = Describe(predicted);
            var a = Describe(actual);

            var correct = new Dictionary<string, bool>
            {
                [Colour] = p.Colours.SetEquals(a.Colours),
                [Shape] = p.Shapes.SetEquals(a.Shapes),
                [Background] = p.Backgrounds.SetEquals(a.Backgrounds),
                [ObjectCount] = p.Count == a.Count,
                [Objects] = predicted.Where(t => WorldAttributes.Parse(t).Shape is not null).ToHashSet()
                    .SetEquals(actual.Where(t => WorldAttributes.Parse(t).Shape is not null)),
                [AllTags] = predicted.SetEquals(actual),
            };
            foreach (var (name, ok) in correct) attributes[name] += ok ? 1 : 0;

            foreach (var ((attribute, value), counts) in values)
            {
                var (inTruth, inPrediction) = (a.Holds(attribute, value), p.Holds(attribute, value));
                if (inTruth) { counts[0]++; counts[1] += correct[attribute] ? 1 : 0; }
                if (inTruth && inPrediction) counts[2]++;
                else if (inPrediction) counts[3]++;
            }
            foreach (var (tag, counts) in tags)
            {
                var (inTruth, inPrediction) = (actual.Contains(tag), predicted.Contains(tag));
                if (inTruth && inPrediction) counts[0]++;
                else if (inPrediction) counts[1]++;
                else if (inTruth) counts[2]++;
            }
        }
        return new WorldTaggerAccuracy(images,
            attributes.Select(kv => new AttributeScore(kv.Key, kv.Value, images)).ToList(),
            values.Select(kv => new ValueScore(kv.Key.Attribute, kv.Key.Value, WorldAttributes.IsHeldOut(kv.Key.Value), kv.Value[0], kv.Value[1],
                kv.Value[2], kv.Value[3], kv.Value[0] - kv.Value[2])).ToList(),
            tags.Select(kv => new TagScore(kv.Key, kv.Value[0], kv.Value[1], kv.Value[2])).ToList());
    }

    static IEnumerable<(string Attribute, string Value)> AttributeValues() =>
        WorldAttributes.Colours.Select(c => (Colour, c))
            .Concat(WorldAttributes.Shapes.Select(s => (Shape, s)))
            .Concat(WorldAttributes.Backgrounds.Select(b => (Background, b)))
            .Concat([(ObjectCount, "1"), (ObjectCount, "2")]);

    sealed record Described(HashSet<string> Colours, HashSet<string> Shapes, HashSet<string> Backgrounds, int Count)
    {
        public bool Holds(string attribute, string value) => attribute switch
        {
            Colour => Colours.Contains(value),
            Shape => Shapes.Contains(value),
            Background => Backgrounds.Contains(value),
            _ => Count.ToString(CultureInfo.InvariantCulture) == value,
        };
    }

    /// <summary>Colours, shapes and backgrounds named by world tags; two objects when two_shapes is among them.</summary>
    static Described Describe(IEnumerable<string> tags)
    {
        var parsed = tags.Select(t => (Tag: t, Parts: WorldAttributes.Parse(t))).ToList();
        return new Described(
            parsed.Where(t => t.Parts.Colour is not null).Select(t => t.Parts.Colour!).ToHashSet(),
            parsed.Where(t => t.Parts.Shape is not null).Select(t => t.Parts.Shape!).ToHashSet(),
            parsed.Where(t => t.Parts.Background is not null).Select(t => t.Parts.Background!).ToHashSet(),
            parsed.Any(t => t.Tag == WorldAttributes.TwoShapesTag) ? 2 : 1);
    }

    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"{Images} images\n");
        foreach (var a in Attributes)
            sb.Append(CultureInfo.InvariantCulture, $"  {a.Attribute,-13} {a.Accuracy,7:P1}  ({a.Correct}/{a.Images})\n");
        sb.Append("  value (* held out)     images  accuracy  precision  recall\n");
        foreach (var v in Values)
            sb.Append(CultureInfo.InvariantCulture,
                $"  {v.Attribute + " " + v.Value + (v.HeldOut ? "*" : ""),-22} {v.Images,6}  {Percent(v.Accuracy),8}  {Percent(v.Precision),9}  {Percent(v.Recall),6}\n");
        sb.Append("  targets: ").AppendJoin(", ", Targets.Select(t => $"{t.Name} {Percent(t.Accuracy)}")).Append('\n');
        return sb.ToString();
    }

    /// <summary>A share as a percentage, or a dash where nothing was counted.</summary>
    static string Percent(double share) => double.IsNaN(share) ? "—" : share.ToString("P1", CultureInfo.InvariantCulture);
}
