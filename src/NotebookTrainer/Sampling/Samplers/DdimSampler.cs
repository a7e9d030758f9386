using NotebookTrainer.Diffusion;
using static TorchSharp.torch;

namespace NotebookTrainer.Sampling.Samplers;

/// <summary>
/// DDIM (Song et al. 2020) as diffusers' DDIMScheduler for Stable Diffusion: "leading" timesteps with steps_offset 1,
/// set_alpha_to_one false (the last step lands on ᾱ₀), no clipping. η = 0 is deterministic; η = 1 adds DDPM-like noise.
/// </summary>
public sealed class DdimSampler(NoiseSchedule schedule, double eta = 0) : Sampler(schedule)
{
    public double Eta { get; } = eta;
    public override string Name => "ddim";

    protected override Tensor Run(DenoiserModel model, Tensor noise, int steps, SamplerContext context)
    {
        var timesteps = Schedule.LeadingTimesteps(steps);
        var alphas = Schedule.AlphasCumprod;
        var x = noise.clone().DetachFromDisposeScope();
        for (var i = 0; i < timesteps.Length; i++)
        {
            using var scope = NewDisposeScope();
            var t = (int)timesteps[i];
            var alpha = alphas[t];
            var alphaPrev = i + 1 < timesteps.Length ? alphas[(int)timesteps[i + 1]] : alphas[0];
            var output = model(x, tensor((float)t, device: x.device));
            Tensor predictedOriginal, predictedNoise;
            if (Schedule.IsVPrediction)
            {
                predictedOriginal = x * Math.Sqrt(alpha) - output * Math.Sqrt(1 - alpha);
                predictedNoise = output * Math.Sqrt(alpha) + x * Math.Sqrt(1 - alpha);
            }
            else
            {
                predictedOriginal = (x - output * Math.Sqrt(1 - alpha)) / Math.Sqrt(alpha);
                predictedNoise = output;
            }
            var variance = (1 - alphaPrev) / (1 - alpha) * (1 - alpha / alphaPrev);
            var noiseScale = Eta * Math.Sqrt(variance);
            var next = predictedOriginal * Math.Sqrt(alphaPrev) + predictedNoise * Math.Sqrt(1 - alphaPrev - noiseScale * noiseScale);
            if (noiseScale > 0) next = next + context.Noise(x) * noiseScale;
            next.DetachFromDisposeScope();
            x.Dispose();
            x = next;
            context.Finished(i + 1);
        }
        return x;
    }
}
