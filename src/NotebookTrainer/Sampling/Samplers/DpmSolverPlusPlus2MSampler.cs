using NotebookTrainer.Diffusion;
using static TorchSharp.torch;

namespace NotebookTrainer.Sampling.Samplers;

/// <summary>
/// DPM-Solver++(2M) (Lu et al. 2022; k-diffusion's sample_dpmpp_2m): data-prediction multistep in λ = −ln σ,
/// second order from the previous denoised estimate, first order on the first step and straight to D on the last.
/// </summary>
public sealed class DpmSolverPlusPlus2MSampler(NoiseSchedule schedule) : KDiffusionSampler(schedule)
{
    public override string Name => KarrasSigmas ? "dpmsolver++_karras" : "dpmsolver++";

    protected override Tensor Integrate(Func<Tensor, double, Tensor> denoise, Tensor x, double[] sigmas, SamplerContext context)
    {
        Tensor? previousDenoised = null;
        try
        {
            for (var i = 0; i < sigmas.Length - 1; i++)
            {
                using var scope = NewDisposeScope();
                var (sigma, sigmaNext) = (sigmas[i], sigmas[i + 1]);
                var denoised = denoise(x, sigma);
                Tensor next;
                if (sigmaNext == 0)
                    next = denoised.clone();
                else
                {
                    var h = Math.Log(sigma) - Math.Log(sigmaNext);
                    var estimate = denoised;
                    if (previousDenoised is not null)
                    {
                        var r = (Math.Log(sigmas[i - 1]) - Math.Log(sigma)) / h;
                        estimate = denoised * (1 + 1 / (2 * r)) - previousDenoised * (1 / (2 * r));
                    }
                    next = x * (sigmaNext / sigma) - estimate * (Math.Exp(-h) - 1);
                }
                previousDenoised?.Dispose();
                previousDenoised = denoised.DetachFromDisposeScope();
                Replace(ref x, next);
                context.Finished(i + 1);
            }
            return x;
        }
        finally
        {
            previousDenoised?.Dispose();
        }
    }
}
