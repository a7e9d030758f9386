using System.Globalization;
using NotebookTrainer.Display;
using NotebookTrainer.Sampling;
using SkiaSharp;

namespace NotebookTrainer.Analysis;

/// <summary>One prompt/seed: mean colour without and with the LoRA, and each image's distance to the training images' mean colour.</summary>
public sealed record ColourComparison(string Prompt, long Seed, double[] Base, double[] WithLora, double BaseDistance, double LoraDistance);

/// <summary>
/// A measurable check that a LoRA learned its data: images sampled with the same seeds without and with the LoRA
/// are compared by mean RGB against the training images' mean RGB. A LoRA that learned the dataset moves the
/// samples toward it (LoRA distance &lt; base distance). Crude, but cheap and meaningful for the tiny model and
/// the synthetic sample dataset, whose colours are its concept.
/// </summary>
public sealed class QualitySignal(double[] trainingMean, IReadOnlyList<ColourComparison> comparisons) : IHtmlRenderable
{
    public double[] TrainingMean { get; } = trainingMean;
    public IReadOnlyList<ColourComparison> Comparisons { get; } = comparisons;

    public double MeanBaseDistance => Comparisons.Average(c => c.BaseDistance);
    public double MeanLoraDistance => Comparisons.Average(c => c.LoraDistance);
    /// <summary>Fraction of the base model's distance the LoRA removed (1: samples match the data's colour; ≤ 0: no progress).</summary>
    public double Improvement => MeanBaseDistance == 0 ? 0 : 1 - MeanLoraDistance / MeanBaseDistance;

    public static double[] MeanColourOfImages(IEnumerable<string> imagePaths)
    {
        var sums = new double[3];
        var count = 0;
        foreach (var path in imagePaths)
        {
            using var bitmap = SKBitmap.Decode(path) ?? throw new InvalidDataException($"{path} is not a decodable image.");
            var mean = ImageTensors.MeanColour(bitmap);
            for (var c = 0; c < 3; c++) sums[c] += mean[c];
            count++;
        }
        if (count == 0) throw new ArgumentException("no training images to compare against.");
        return sums.Select(s => s / count).ToArray();
    }

    /// <summary>Samples every prompt twice with its seed, base (LoRA weight 0) and with the LoRA at <paramref name="weight"/>.</summary>
    public static QualitySignal Measure(SampleImageGenerator generator, IReadOnlyList<SamplePrompt> prompts, Networks.LoraNetwork lora, float weight,
        double[] trainingMean, long seed = 1, CancellationToken cancellation = default)
    {
        var options = new SampleRunOptions("", "", 0) { WriteFiles = false, Seed = seed };
        var without = generator.Run(prompts, options, [(lora, 0f)], cancellation: cancellation);
        var with = generator.Run(prompts, options, [(lora, weight)], cancellation: cancellation);
        var rows = new List<ColourComparison>();
        for (var i = 0; i < prompts.Count; i++)
        {
            var a = ImageTensors.MeanColour(without.Images[i].Png);
            var b = ImageTensors.MeanColour(with.Images[i].Png);
            rows.Add(new ColourComparison(prompts[i].Prompt, without.Images[i].Seed, a, b, Distance(a, trainingMean), Distance(b, trainingMean)));
        }
        return new QualitySignal(trainingMean, rows);
    }

    static double Distance(double[] a, double[] b) => Math.Sqrt(a.Zip(b, (x, y) => (x - y) * (x - y)).Sum());

    static string Rgb(double[] c) => string.Join(" ", c.Select(v => v.ToString("0.000", CultureInfo.InvariantCulture)));

    public string ToHtml() =>
        "<div class=\"nt-quality\"><h3>Quality signal: mean colour vs. training images</h3>" +
        $"<p>training mean RGB {Rgb(TrainingMean)}; mean distance base {MeanBaseDistance.ToString("0.0000", CultureInfo.InvariantCulture)}, " +
        $"with LoRA {MeanLoraDistance.ToString("0.0000", CultureInfo.InvariantCulture)} (improvement {Improvement:P1})</p>" +
        Html.Table(["prompt", "seed", "base RGB", "LoRA RGB", "base distance", "LoRA distance"], Comparisons.Select(c => new object?[]
        {
            c.Prompt, c.Seed, Rgb(c.Base), Rgb(c.WithLora),
            c.BaseDistance.ToString("0.0000", CultureInfo.InvariantCulture), c.LoraDistance.ToString("0.0000", CultureInfo.InvariantCulture),
        })) + "</div>";
}
