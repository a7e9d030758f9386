using System.Diagnostics;
using NotebookTrainer.Display;

namespace NotebookTrainer.Training;

/// <summary>
/// A training run as a notebook shows it: a status line and the loss chart, handed to the host at most every
/// <paramref name="interval"/> (two seconds unless given) and at the last step, so a cell redraws them in place.
/// </summary>
public sealed class LiveTrainingView(Action<string> showStatus, Action<Chart> showChart, TimeSpan? interval = null) : IProgress<TrainingProgress>
{
    readonly TimeSpan interval = interval ?? TimeSpan.FromSeconds(2);
    readonly List<(int Step, float Loss, float SmoothedLoss)> losses = [];
    readonly Stopwatch sinceDraw = Stopwatch.StartNew();

    public void Report(TrainingProgress progress)
    {
        losses.Add((progress.Step, progress.Loss, progress.SmoothedLoss));
        if (sinceDraw.Elapsed < interval && progress.Step < progress.TotalSteps) return;
        showStatus(progress.ToString());
        showChart(LossChart.Create(losses));
        sinceDraw.Restart();
    }

    /// <summary>Shows how the run ended: where its output is, or how to continue a cancelled run.</summary>
    public void Finish(TrainingResult result, string outputKind) => showStatus(result.Cancelled
        ? $"stopped at step {result.Steps}; to continue, set config.Resume = @\"{result.StatePath}\" in the configuration cell and run again"
        : $"done: {result.Steps} steps, {outputKind} at {result.OutputPath}");
}
