using NotebookTrainer.Diffusion;
using static TorchSharp.torch;

namespace NotebookTrainer.Sampling.Samplers;

/// <summary>Heun's second-order method (Karras et al. 2022, Alg. 1): an Euler step corrected by the slope at its end; Euler for the last step to σ = 0.</summary>
public sealed class HeunSampler(NoiseSchedule schedule) : KDiffusionSampler(schedule)
{
    public override string Name => "heun";
    public override int EvaluationsPerStep => 2;

    protected override Tensor Integrate(Func<Tensor, double, Tensor> denoise, Tensor x, double[] sigmas, SamplerContext context)
    {
        for (var i = 0; i < sigmas.Length - 1; i++)
        {
            using var scope = NewDisposeScope();
            var (sigma, sigmaNext) = (sigmas[i], sigmas[i + 1]);
            var derivative = (x - denoise(x, sigma)) / sigma;
            var euler = x + derivative * (sigmaNext - sigma);
            if (sigmaNext > 0)
            {
                var derivativeAtEnd = (euler - denoise(euler, sigmaNext)) / sigmaNext;
                euler = x + (derivative + derivativeAtEnd) * (0.5 * (sigmaNext - sigma));
            }
            Replace(ref x, euler);
            context.Finished(i + 1);
        }
        return x;
    }
}
