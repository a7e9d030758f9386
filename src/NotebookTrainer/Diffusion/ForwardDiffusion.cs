using TorchSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.Diffusion;

/// <summary>
/// The DDPM forward process as tensors for the training step: ᾱ and SNR = ᾱ/(1−ᾱ) from the one schedule
/// definition, <see cref="NoiseSchedule"/> (Stable Diffusion's 1000 scaled-linear steps by default), which sampling uses too.
/// Kept in float64, used in the batch's dtype.
/// With zero terminal SNR (sd-scripts' zero_terminal_snr, arXiv 2305.08891) √ᾱ is shifted and scaled so that the
/// last timestep is pure noise and the first is unchanged. The SNR weights (min-SNR-γ, debiased estimation,
/// v-pred-like loss) keep the original schedule's SNR, as in sd-scripts, which computes them before the rescale;
/// the rescaled SNR is 0 at the last step, which would make min-SNR-γ's weight 0/0.
/// </summary>
public sealed class ForwardDiffusion : IDisposable
{
    public ForwardDiffusion() : this(NoiseSchedule.StableDiffusion) { }

    public ForwardDiffusion(NoiseSchedule schedule, bool zeroTerminalSnr = false)
    {
        Steps = schedule.TrainTimesteps;
        using var scope = NewDisposeScope();
        var alphasCumprod = tensor(schedule.AlphasCumprod, ScalarType.Float64);
        Snr = (alphasCumprod / (1 - alphasCumprod)).DetachFromDisposeScope();
        AlphasCumprod = (zeroTerminalSnr ? RescaledToZeroTerminalSnr(alphasCumprod) : alphasCumprod.clone()).DetachFromDisposeScope();
    }

    static Tensor RescaledToZeroTerminalSnr(Tensor alphasCumprod)
    {
        var root = alphasCumprod.sqrt();
        double first = root[0].item<double>(), last = root[-1].item<double>();
        return ((root - last) * (first / (first - last))).square();
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
