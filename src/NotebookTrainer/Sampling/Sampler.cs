using NotebookTrainer.Diffusion;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.Sampling;

/// <summary>A reverse-diffusion solver: standard normal latents → denoised latents (x₀) in <c>steps</c> steps.</summary>
public abstract class Sampler
{
    protected Sampler(NoiseSchedule schedule) => Schedule = schedule;

    public NoiseSchedule Schedule { get; }

    /// <summary>The kohya / A1111 name, e.g. "euler_a".</summary>
    public abstract string Name { get; }

    /// <summary>Network evaluations per step (Heun and DPM2 evaluate twice), for time estimates.</summary>
    public virtual int EvaluationsPerStep => 1;

    /// <param name="model">ε or v model with conditioning bound in.</param>
    /// <param name="noise">Standard normal initial latents (not modified, not disposed).</param>
    /// <param name="generator">Source of the fresh noise that ancestral and η &gt; 0 samplers add; seed it per image.</param>
    /// <param name="onStep">Called after each step with the number of finished steps.</param>
    /// <returns>The sampled latents; the caller owns them.</returns>
    public Tensor Sample(DenoiserModel model, Tensor noise, int steps, Generator? generator = null, Action<int>? onStep = null, CancellationToken cancellation = default)
    {
        using var noGrad = no_grad();
        return Run(model, noise, steps, new SamplerContext(generator, onStep, cancellation));
    }

    protected abstract Tensor Run(DenoiserModel model, Tensor noise, int steps, SamplerContext context);
}

/// <summary>Per-call state a sampler loop needs besides the model: noise source, progress, cancellation.</summary>
public sealed record SamplerContext(Generator? Generator, Action<int>? OnStep, CancellationToken Cancellation)
{
    /// <summary>Fresh noise drawn on the CPU (where the generator lives), so a seed gives the same image on any device.</summary>
    public Tensor Noise(Tensor like)
    {
        using var cpu = randn(like.shape, dtype: like.dtype, generator: Generator);
        return cpu.to(like.device);
    }

    public void Finished(int step)
    {
        OnStep?.Invoke(step);
        Cancellation.ThrowIfCancellationRequested();
    }
}
