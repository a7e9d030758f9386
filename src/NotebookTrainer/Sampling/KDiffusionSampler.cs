using NotebookTrainer.Diffusion;
using static TorchSharp.torch;

namespace NotebookTrainer.Sampling;

/// <summary>
/// Base of the k-diffusion samplers (Euler, Heun, LMS, DPM2, DPM-Solver): they integrate x = x₀ + σ·ε over a
/// decreasing σ grid ending at 0, starting from noise·√(σ_max² + 1) as diffusers does. The model sees
/// x/√(σ² + 1) (the DDPM sample) at the timestep whose σ matches, by log-σ interpolation.
/// </summary>
public abstract class KDiffusionSampler(NoiseSchedule schedule) : Sampler(schedule)
{
    /// <summary>Use the Karras ρ = 7 σ spacing instead of diffusers' linspace timesteps.</summary>
    public bool KarrasSigmas { get; init; }

    public double[] SigmasFor(int steps)
    {
        var timesteps = Schedule.LinspaceTimesteps(steps);
        return KarrasSigmas ? Schedule.KarrasSigmasFor(timesteps) : Schedule.SigmasFor(timesteps);
    }

    protected sealed override Tensor Run(DenoiserModel model, Tensor noise, int steps, SamplerContext context)
    {
        var sigmas = SigmasFor(steps);
        Tensor Denoise(Tensor x, double sigma)
        {
            var inputScale = 1 / Math.Sqrt(sigma * sigma + 1);
            using var timestep = tensor((float)Schedule.TimestepAt(sigma), device: x.device);
            using var input = x * inputScale;
            using var output = model(input, timestep);
            return Schedule.IsVPrediction
                ? x * (inputScale * inputScale) - output * (sigma * inputScale)
                : x - output * sigma;
        }
        var start = (noise * Math.Sqrt(sigmas[0] * sigmas[0] + 1)).DetachFromDisposeScope();
        return Integrate(Denoise, start, sigmas, context);
    }

    /// <summary>
    /// Runs the solver over <paramref name="sigmas"/> (last is 0). Owns <paramref name="x"/>: dispose it when
    /// replaced; the returned tensor must not be tracked by a dispose scope.
    /// </summary>
    protected abstract Tensor Integrate(Func<Tensor, double, Tensor> denoise, Tensor x, double[] sigmas, SamplerContext context);

    /// <summary>Replaces <paramref name="x"/> with <paramref name="next"/>, taking <paramref name="next"/> out of every dispose scope.</summary>
    protected static void Replace(ref Tensor x, Tensor next)
    {
        next.DetachFromDisposeScope();
        x.Dispose();
        x = next;
    }

    /// <summary>k-diffusion's get_ancestral_step: how far to step deterministically (down) and how much noise to add back (up), η = 1.</summary>
    protected static (double Down, double Up) AncestralStep(double sigma, double sigmaNext)
    {
        if (sigmaNext == 0) return (0, 0);
        var up = Math.Min(sigmaNext, Math.Sqrt(sigmaNext * sigmaNext * (sigma * sigma - sigmaNext * sigmaNext) / (sigma * sigma)));
        return (Math.Sqrt(sigmaNext * sigmaNext - up * up), up);
    }
}
