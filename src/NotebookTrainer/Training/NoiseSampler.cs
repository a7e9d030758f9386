using TorchSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.Training;

/// <summary>kohya's training noise: Gaussian, plus optional offset noise and multi-resolution (pyramid) noise.</summary>
public static class NoiseSampler
{
    public static Tensor Sample(Tensor latents, Generator generator, double? noiseOffset = null, int? multiresIterations = null, double multiresDiscount = 0.3)
    {
        using var scope = NewDisposeScope();
        var noise = randn(latents.shape, dtype: latents.dtype, device: latents.device, generator: generator);
        if (noiseOffset is > 0 && noiseOffset is { } offset)
            noise = noise + offset * randn(latents.shape[0], latents.shape[1], 1, 1, dtype: latents.dtype, device: latents.device, generator: generator);
        if (multiresIterations is > 0 && multiresIterations is { } iterations)
            noise = Pyramid(noise, generator, iterations, multiresDiscount);
        return noise.MoveToOuterDisposeScope();
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
