using NotebookTrainer.Diffusion;
using static TorchSharp.torch;

namespace NotebookTrainer.Sampling.Samplers;

/// <summary>
/// DPM-Solver-2 in k-diffusion's form (sample_dpm_2 / sample_dpm_2_ancestral): a midpoint step at the geometric
/// mean of σ and the target σ. Ancestral: the target is σ_down and noise of σ_up is added after the step.
/// </summary>
public sealed class Dpm2Sampler(NoiseSchedule schedule, bool ancestral) : KDiffusionSampler(schedule)
{
    public bool Ancestral { get; } = ancestral;
    public override string Name => Ancestral ? "dpm_2_a" : "dpm_2";
    public override int EvaluationsPerStep => 2;

    protected override Tensor Integrate(Func<Tensor, double, Tensor> denoise, Tensor x, double[] sigmas, SamplerContext context)
    {
        for (var i = 0; i < sigmas.Length - 1; i++)
        {
            using var scope = NewDisposeScope();
            var sigma = sigmas[i];
            var (target, up) = Ancestral ? AncestralStep(sigma, sigmas[i + 1]) : (sigmas[i + 1], 0.0);
            var derivative = (x - denoise(x, sigma)) / sigma;
            Tensor next;
            if (target == 0)
                next = x + derivative * (target - sigma);
            else
            {
                var sigmaMid = Math.Exp(0.5 * (Math.Log(sigma) + Math.Log(target)));
                var mid = x + derivative * (sigmaMid - sigma);
                var derivativeMid = (mid - denoise(mid, sigmaMid)) / sigmaMid;
                next = x + derivativeMid * (target - sigma);
            }
            if (up > 0) next = next + context.Noise(x) * up;
            Replace(ref x, next);
            context.Finished(i + 1);
        }
        return x;
    }
}
