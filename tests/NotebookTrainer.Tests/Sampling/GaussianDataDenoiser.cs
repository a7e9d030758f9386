using NotebookTrainer.Diffusion;
using NotebookTrainer.Sampling;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.Tests.Sampling;

/// <summary>
/// The ideal denoiser for data x₀ ~ N(μ_c, s²) per element (μ per channel): E[x₀ | x₀ + σε = x] = μ + s²/(s² + σ²)·(x − μ).
/// Its probability-flow ODE has the closed form x(σ) − μ = (x(σ₀) − μ)·√(s² + σ²)/√(s² + σ₀²), so every
/// deterministic sampler has an exact answer to converge to.
/// </summary>
sealed class GaussianDataDenoiser(NoiseSchedule schedule, double[] channelMeans, double std)
{
    public double Std { get; } = std;
    public int EvaluationCount { get; private set; }

    public Tensor Means(Tensor like) => tensor(channelMeans, dtype: like.dtype).reshape(1, channelMeans.Length, 1, 1);

    /// <summary>σ of a (fractional) timestep, interpolating log σ: the exact inverse of the samplers' σ → t.</summary>
    public double SigmaOf(double timestep)
    {
        var sigmas = schedule.Sigmas;
        var low = (int)Math.Floor(timestep);
        var high = Math.Min(low + 1, sigmas.Length - 1);
        return Math.Exp(Math.Log(sigmas[low]) + (timestep - low) * (Math.Log(sigmas[high]) - Math.Log(sigmas[low])));
    }

    public Tensor Denoised(Tensor xVe, double sigma)
    {
        var mu = Means(xVe);
        return mu + (xVe - mu) * (Std * Std / (Std * Std + sigma * sigma));
    }

    /// <summary>The model as the samplers call it: DDPM sample x_t and timestep → ε or v.</summary>
    public Tensor Predict(Tensor sample, Tensor timestep)
    {
        EvaluationCount++;
        var sigma = SigmaOf(timestep.item<float>());
        var inputScale = 1 / Math.Sqrt(sigma * sigma + 1);   // √ᾱ
        var xVe = sample / inputScale;
        var denoised = Denoised(xVe, sigma);
        var noise = (xVe - denoised) / sigma;
        return schedule.IsVPrediction
            ? noise * inputScale - denoised * (sigma * inputScale)
            : noise;
    }

    /// <summary>The exact ODE solution at σ₁ for a start x(σ₀) (both in x₀ + σε coordinates).</summary>
    public Tensor Flow(Tensor xVe, double sigmaFrom, double sigmaTo)
    {
        var mu = Means(xVe);
        return mu + (xVe - mu) * (Math.Sqrt(Std * Std + sigmaTo * sigmaTo) / Math.Sqrt(Std * Std + sigmaFrom * sigmaFrom));
    }
}
