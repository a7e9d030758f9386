using System.Globalization;
using System.Text;
using NotebookTrainer.Display;

namespace NotebookTrainer.Training;

/// <summary>What a run will do, printed before step 1 (kohya's "running training" block).</summary>
public sealed record TrainingPlan(
    int TrainImages,
    int RegImages,
    IReadOnlyList<(string Folder, int Images, int Repeats)> Subsets,
    IReadOnlyList<(int Width, int Height, int Count)> Buckets,
    int BatchesPerEpoch,
    int GradientAccumulationSteps,
    int StepsPerEpoch,
    int Epochs,
    int TotalSteps,
    long WarmupSteps,
    int BatchSize,
    string Trains,
    long TrainableParameters,
    string Optimizer,
    string Scheduler,
    long EstimatedMemoryBytes,
    string Device) : IHtmlRenderable
{
    IEnumerable<(string, string)> Rows()
    {
        static string N(long v) => v.ToString("N0", CultureInfo.InvariantCulture);
        yield return ("train images (× repeats)", N(TrainImages));
        yield return ("reg images (× repeats)", N(RegImages));
        foreach (var (folder, images, repeats) in Subsets) yield return ($"  {folder}", $"{images} images × {repeats} repeats");
        yield return ("buckets", string.Join(", ", Buckets.Select(b => $"{b.Width}×{b.Height}: {b.Count}")));
        yield return ("batch size", N(BatchSize));
        yield return ("batches per epoch", N(BatchesPerEpoch));
        yield return ("gradient accumulation", N(GradientAccumulationSteps));
        yield return ("steps per epoch", N(StepsPerEpoch));
        yield return ("epochs", N(Epochs));
        yield return ("total optimization steps", N(TotalSteps));
        yield return ("warmup steps", N(WarmupSteps));
        yield return ("trains", Trains);
        yield return ("trainable parameters", N(TrainableParameters));
        yield return ("optimizer / scheduler", $"{Optimizer} / {Scheduler}");
        yield return ("estimated memory (weights, gradients, optimizer state)", $"{EstimatedMemoryBytes / (1024.0 * 1024 * 1024):0.00} GiB");
        yield return ("device", Device);
    }

    public override string ToString()
    {
        var sb = new StringBuilder("training plan\n");
        foreach (var (k, v) in Rows()) sb.Append("  ").Append(k).Append(": ").Append(v).Append('\n');
        return sb.ToString();
    }

    public string ToHtml() => "<div class=\"nt-training-plan\"><b>Training plan</b>" + Html.Table(["", ""], Rows().Select(r => new object?[] { r.Item1, r.Item2 })) + "</div>";
}
