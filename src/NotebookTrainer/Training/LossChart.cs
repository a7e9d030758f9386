using Plotly.NET;

namespace NotebookTrainer.Training;

/// <summary>The loss curve notebooks show while training: per-step loss and its moving average.</summary>
public static class LossChart
{
    public static GenericChart Create(IReadOnlyList<(int Step, float Loss, float SmoothedLoss)> losses)
    {
        var steps = losses.Select(l => l.Step).ToArray();
        var raw = Plotly.NET.CSharp.Chart.Line<int, float, string>(x: steps, y: losses.Select(l => l.Loss).ToArray(), Name: "loss", Opacity: 0.35);
        var smooth = Plotly.NET.CSharp.Chart.Line<int, float, string>(x: steps, y: losses.Select(l => l.SmoothedLoss).ToArray(), Name: "moving average");
        return Plotly.NET.CSharp.Chart.Combine(new[] { raw, smooth });
    }
}
