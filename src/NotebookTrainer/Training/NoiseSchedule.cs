using TorchSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.Training;

/// <summary>
/// The DDPM forward process as tensors for the training step: ᾱ and SNR = ᾱ/(1−ᾱ) from the one schedule
/// definition in <see cref="Sampling.NoiseSchedule"/> (Stable Diffusion's 1000 scaled-linear steps by default).
/// Kept in float64, used in the batch's dtype.
/// </summary>
public sealed class NoiseSchedule : IDisposable
{
    public NoiseSchedule() : this(Sampling.NoiseSchedule.StableDiffusion) { }

    public NoiseSchedule(Sampling.NoiseSchedule schedule)
    {
        Steps = schedule.TrainTimesteps;
        AlphasCumprod = tensor(schedule.AlphasCumprod, ScalarType.Float64).DetachFromDisposeScope();
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
