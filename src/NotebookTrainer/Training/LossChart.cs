using NotebookTrainer.Display;

namespace NotebookTrainer.Training;

/// <summary>The loss curve notebooks show while training: per-step loss and its moving average.</summary>
public static class LossChart
{
    public static Chart Create(IReadOnlyList<(int Step, float Loss, float SmoothedLoss)> losses)
    {
        var steps = losses.Select(l => (double)l.Step).ToArray();
        return new Chart(
        [
            new LineTrace("loss", steps, losses.Select(l => (double)l.Loss).ToArray(), Opacity: 0.35),
            new LineTrace("moving average", steps, losses.Select(l => (double)l.SmoothedLoss).ToArray()),
        ]);
    }
}
