using TorchSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.Models.Vae;

/// <summary>
/// diffusers' <c>DiagonalGaussianDistribution</c>: the VAE posterior, mean and log-variance (clamped to
/// [−30, 20]) split from the encoder moments along channels. Owns its tensors.
/// </summary>
public sealed class DiagonalGaussianDistribution : IDisposable
{
    public DiagonalGaussianDistribution(Tensor moments)
    {
        var halves = moments.chunk(2, 1);
        Mean = halves[0];
        using var rawLogvar = halves[1];
        LogVar = rawLogvar.clamp(-30.0, 20.0);
        Std = (LogVar * 0.5).exp_();
    }

    public Tensor Mean { get; }
    public Tensor LogVar { get; }
    public Tensor Std { get; }

    /// <summary>mean + std·ε with ε drawn from <paramref name="generator"/> (kohya caches this sample, unscaled).</summary>
    public Tensor sample(Generator? generator = null)
    {
        using var noise = randn(Mean.shape, dtype: Mean.dtype, device: Mean.device, generator: generator);
        return Mean + Std * noise;
    }

    public Tensor mode() => Mean.alias();

    public void Dispose()
    {
        Mean.Dispose();
        LogVar.Dispose();
        Std.Dispose();
    }
}
