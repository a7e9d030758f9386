using NotebookTrainer.Diffusion;
using static TorchSharp.torch;

namespace NotebookTrainer.Sampling.Samplers;

/// <summary>Euler's method on the probability-flow ODE dx/dσ = (x − D(x, σ))/σ (Karras et al. 2022, Alg. 1 without churn).</summary>
public sealed class EulerSampler(NoiseSchedule schedule) : KDiffusionSampler(schedule)
{
    public override string Name => "euler";

    protected override Tensor Integrate(Func<Tensor, double, Tensor> denoise, Tensor x, double[] sigmas, SamplerContext context)
    {
        for (var i = 0; i < sigmas.Length - 1; i++)
        {
            using var scope = NewDisposeScope();
            var derivative = (x - denoise(x, sigmas[i])) / sigmas[i];
            Replace(ref x, x + derivative * (sigmas[i + 1] - sigmas[i]));
            context.Finished(i + 1);
        }
        return x;
    }
}
