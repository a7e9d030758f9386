using TorchSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.Training;

/// <summary>
/// The DDPM forward process Stable Diffusion was trained with: 1000 steps, scaled-linear betas
/// (linspace(√0.00085, √0.012)²), ᾱ = cumprod(1−β), SNR = ᾱ/(1−ᾱ). Computed in float64, used in float32.
/// </summary>
public sealed class NoiseSchedule : IDisposable
{
    public NoiseSchedule(int steps = 1000, double betaStart = 0.00085, double betaEnd = 0.012)
    {
        Steps = steps;
        using var betas = linspace(Math.Sqrt(betaStart), Math.Sqrt(betaEnd), steps, ScalarType.Float64).square();
        AlphasCumprod = (1 - betas).cumprod(0).DetachFromDisposeScope();
        Snr = (AlphasCumprod / (1 - AlphasCumprod)).DetachFromDisposeScope();
    }

    public int Steps { get; }

    /// <summary>ᾱ_t, float64 (Steps).</summary>
    public Tensor AlphasCumprod { get; }

    /// <summary>ᾱ_t / (1 − ᾱ_t), float64 (Steps).</summary>
    public Tensor Snr { get; }

    /// <summary>√ᾱ_t and √(1−ᾱ_t) for each timestep, shaped (B,1,1,1) in <paramref name="like"/>'s dtype and device.</summary>
    (Tensor SqrtAlpha, Tensor SqrtOneMinusAlpha) Coefficients(Tensor timesteps, Tensor like)
    {
        var a = AlphasCumprod.to(like.device).index_select(0, timesteps.to(like.device)).reshape(-1, 1, 1, 1);
        return (a.sqrt().to(like.dtype), (1 - a).sqrt().to(like.dtype));
    }

    /// <summary>x_t = √ᾱ_t·x₀ + √(1−ᾱ_t)·ε.</summary>
    public Tensor AddNoise(Tensor x0, Tensor noise, Tensor timesteps)
    {
        using var scope = NewDisposeScope();
        var (sa, s1a) = Coefficients(timesteps, x0);
        return (sa * x0 + s1a * noise).MoveToOuterDisposeScope();
    }

    /// <summary>v = √ᾱ_t·ε − √(1−ᾱ_t)·x₀ (v-parameterization target).</summary>
    public Tensor Velocity(Tensor x0, Tensor noise, Tensor timesteps)
    {
        using var scope = NewDisposeScope();
        var (sa, s1a) = Coefficients(timesteps, x0);
        return (sa * noise - s1a * x0).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        AlphasCumprod.Dispose();
        Snr.Dispose();
    }
}
