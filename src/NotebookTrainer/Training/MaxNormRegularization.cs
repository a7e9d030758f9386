using NotebookTrainer.Networks;
using static TorchSharp.torch;

namespace NotebookTrainer.Training;

/// <summary>What one max-norm pass did: modules scaled down, and the mean and largest ‖ΔW‖ after scaling.</summary>
public readonly record struct MaxNormResult(int KeysScaled, float MeanNorm, float MaxNorm);

/// <summary>
/// kohya's scale_weight_norms: after each optimizer step, every LoRA module whose ΔW = up·down·alpha/rank has a
/// Frobenius norm above the limit has up and down both scaled by √(limit/‖ΔW‖), so ΔW lands on the limit.
/// </summary>
public static class MaxNormRegularization
{
    public static MaxNormResult Apply(LoraNetwork network, double maxNorm)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var scaled = 0;
        var norms = new List<float>();
        foreach (var module in network.Modules.OfType<LoraModule>())
        {
            var norm = module.DeltaWeight().to(ScalarType.Float32).norm().item<float>();
            // As in sd-scripts: norms below half the limit count as half the limit, which never scales them.
            var clamped = Math.Max(norm, maxNorm / 2);
            var ratio = Math.Min(clamped, maxNorm) / clamped;
            if (ratio != 1)
            {
                scaled++;
                var factor = Math.Sqrt(ratio);
                module.UpWeight.mul_(factor);
                module.DownWeight.mul_(factor);
            }
            norms.Add((float)(norm * ratio));
        }
        return norms.Count == 0 ? new(0, 0, 0) : new(scaled, norms.Average(), norms.Max());
    }
}
