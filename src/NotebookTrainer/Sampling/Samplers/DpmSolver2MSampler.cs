using NotebookTrainer.Diffusion;
using static TorchSharp.torch;

namespace NotebookTrainer.Sampling.Samplers;

/// <summary>
/// DPM-Solver-2M in noise-prediction form (diffusers' algorithm_type "dpmsolver", midpoint solver). In the
/// x = x₀ + σ·ε coordinates its first-order step is Euler with ε = (x − D)/σ; the second-order step extrapolates
/// ε from the previous one: ε + (ε − ε_prev)/(2r), r = h_prev/h in λ = −ln σ. The last step to σ = 0 is first order.
/// </summary>
public sealed class DpmSolver2MSampler(NoiseSchedule schedule) : KDiffusionSampler(schedule)
{
    public override string Name => "dpmsolver";

    protected override Tensor Integrate(Func<Tensor, double, Tensor> denoise, Tensor x, double[] sigmas, SamplerContext context)
    {
        Tensor? previousNoise = null;
        try
        {
            for (var i = 0; i < sigmas.Length - 1; i++)
            {
                using var scope = NewDisposeScope();
                var (sigma, sigmaNext) = (sigmas[i], sigmas[i + 1]);
                var noise = (x - denoise(x, sigma)) / sigma;
                var estimate = noise;
                if (previousNoise is not null && sigmaNext > 0)
                {
                    var h = Math.Log(sigma) - Math.Log(sigmaNext);
                    var r = (Math.Log(sigmas[i - 1]) - Math.Log(sigma)) / h;
                    estimate = noise + (noise - previousNoise) * (1 / (2 * r));
                }
                var next = x + estimate * (sigmaNext - sigma);
                previousNoise?.Dispose();
                previousNoise = noise.DetachFromDisposeScope();
                Replace(ref x, next);
                context.Finished(i + 1);
            }
            return x;
        }
        finally
        {
            previousNoise?.Dispose();
        }
    }
}
