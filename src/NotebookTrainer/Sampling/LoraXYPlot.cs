using NotebookTrainer.Networks;
using NotebookTrainer.Progress;

namespace NotebookTrainer.Sampling;

/// <summary>The X/Y plot users make to pick a checkpoint and weight: LoRA weight (columns) × epoch file (rows), one prompt and seed.</summary>
public static class LoraXYPlot
{
    public static SampleGrid WeightByEpoch(SampleImageGenerator generator, SamplePrompt prompt, long seed, string sampler, int steps,
        IReadOnlyList<(string Label, LoraNetwork Network)> epochs, IReadOnlyList<float> weights,
        IProgress<ProgressUpdate>? progress = null, CancellationToken cancellation = default)
    {
        var tracker = new ProgressTracker("X/Y plot", epochs.Count * weights.Count, progress);
        var cells = new byte[epochs.Count, weights.Count][];
        var options = new SampleRunOptions("", "", 0) { WriteFiles = false, Seed = seed, Sampler = sampler, Steps = steps };
        for (var r = 0; r < epochs.Count; r++)
            for (var c = 0; c < weights.Count; c++)
            {
                var set = generator.Run([prompt with { Seed = seed }], options, [(epochs[r].Network, weights[c])], cancellation: cancellation);
                cells[r, c] = set.Images[0].Png;
                tracker.Advance(detail: $"{epochs[r].Label} @ {weights[c]}");
            }
        return SampleGrid.Compose($"LoRA weight × epoch: {prompt.Prompt}", epochs.Select(e => e.Label).ToList(),
            weights.Select(w => $"weight {w:0.##}").ToList(), (r, c) => cells[r, c]);
    }
}
