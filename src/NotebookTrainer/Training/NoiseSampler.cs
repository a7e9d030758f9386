using TorchSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.Training;

/// <summary>
/// kohya's training noise: Gaussian, plus optional offset noise and multi-resolution (pyramid) noise; the timesteps
/// it is applied at; and input-perturbation noise (ip_noise_gamma).
/// </summary>
public static class NoiseSampler
{
    /// <param name="offsetRandomStrength">noise_offset_random_strength: the offset is U(0,1)·noise_offset per batch.</param>
    /// <param name="adaptiveNoiseScale">adaptive_noise_scale: adds scale·|mean of each latent channel| to the offset (clamped at 0).</param>
    public static Tensor Sample(Tensor latents, Generator generator, double? noiseOffset = null, int? multiresIterations = null, double multiresDiscount = 0.3,
        bool offsetRandomStrength = false, double? adaptiveNoiseScale = null)
    {
        using var scope = NewDisposeScope();
        var noise = randn(latents.shape, dtype: latents.dtype, device: latents.device, generator: generator);
        if (noiseOffset is > 0 && noiseOffset is { } offset)
        {
            var strength = offsetRandomStrength
                ? rand(1, dtype: latents.dtype, device: latents.device, generator: generator) * offset
                : tensor(offset, dtype: latents.dtype, device: latents.device);
            if (adaptiveNoiseScale is { } adaptive)
                strength = (strength + adaptive * latents.mean([2, 3], keepdim: true).abs()).clamp_min(0);
            noise = noise + strength * randn(latents.shape[0], latents.shape[1], 1, 1, dtype: latents.dtype, device: latents.device, generator: generator);
        }
        if (multiresIterations is > 0 && multiresIterations is { } iterations)
            noise = Pyramid(noise, generator, iterations, multiresDiscount);
        return noise.MoveToOuterDisposeScope();
    }

    /// <summary>One training timestep per sample, uniform in [<paramref name="min"/>, <paramref name="max"/>) (min_timestep / max_timestep).</summary>
    public static Tensor Timesteps(long batch, int min, int max, Generator generator, Device device) =>
        randint(min, max, [batch], dtype: ScalarType.Int64, device: device, generator: generator);

    /// <summary>
    /// ip_noise_gamma: the noisy latents are made from noise + γ·ε′ while the loss still targets the plain noise.
    /// With <paramref name="randomStrength"/>, γ is U(0,1)·gamma per batch.
    /// </summary>
    public static Tensor InputPerturbation(Tensor noise, Generator generator, double gamma, bool randomStrength)
    {
        using var scope = NewDisposeScope();
        var strength = randomStrength
            ? rand(1, dtype: noise.dtype, device: noise.device, generator: generator) * gamma
            : tensor(gamma, dtype: noise.dtype, device: noise.device);
        return (noise + strength * randn(noise.shape, dtype: noise.dtype, device: noise.device, generator: generator)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Adds upsampled coarse noise: r = 2 + 2·U(0,1); level i adds upsample(randn(h/rⁱ, w/rⁱ))·discountⁱ until a side
    /// would reach 1; the sum is divided by its std.
    /// </summary>
    public static Tensor Pyramid(Tensor noise, Generator generator, int iterations, double discount)
    {
        using var scope = NewDisposeScope();
        var (b, c, h, w) = (noise.shape[0], noise.shape[1], noise.shape[2], noise.shape[3]);
        var r = rand(1, generator: generator).item<float>() * 2 + 2;
        var result = noise;
        for (var i = 1; i <= iterations; i++)
        {
            var ratio = Math.Pow(r, i);
            var lh = (long)(h / ratio);
            var lw = (long)(w / ratio);
            if (lh <= 1 || lw <= 1) break;
            var coarse = randn(b, c, lh, lw, dtype: noise.dtype, device: noise.device, generator: generator);
            var up = nn.functional.interpolate(coarse, size: new[] { h, w }, mode: InterpolationMode.Bilinear);
            result = result + up * Math.Pow(discount, i);
        }
        return (result / result.std()).MoveToOuterDisposeScope();
    }
}
