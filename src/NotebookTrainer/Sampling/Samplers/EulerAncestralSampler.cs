using NotebookTrainer.Diffusion;
using static TorchSharp.torch;

namespace NotebookTrainer.Sampling.Samplers;

/// <summary>Euler steps to σ_down followed by fresh noise of σ_up (k-diffusion's sample_euler_ancestral, η = 1).</summary>
public sealed class EulerAncestralSampler(NoiseSchedule schedule) : KDiffusionSampler(schedule)
{
    public override string Name => "euler_a";

    protected override Tensor Integrate(Func<Tensor, double, Tensor> denoise, Tensor x, double[] sigmas, SamplerContext context)
    {
        for (var i = 0; i < sigmas.Length - 1; i++)
        {
            using var scope = NewDisposeScope();
            var (down, up) = AncestralStep(sigmas[i], sigmas[i + 1]);
            var derivative = (x - denoise(x, sigmas[i])) / sigmas[i];
            var next = x + derivative * (down - sigmas[i]);
            if (up > 0) next = next + context.Noise(x) * up;
            Replace(ref x, next);
            context.Finished(i + 1);
        }
        return x;
    }
}
