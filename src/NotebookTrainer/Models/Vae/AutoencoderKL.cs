using NotebookTrainer.ModelConfigs;
using NotebookTrainer.Models.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.Models.Vae;

/// <summary>diffusers' <c>AutoencoderKL</c>: encoder → quant_conv → posterior; post_quant_conv → decoder.</summary>
public sealed class AutoencoderKL : nn.Module
{
    public readonly Encoder encoder;
    public readonly Decoder decoder;
    public readonly AdaptableConv2d quant_conv;
    public readonly AdaptableConv2d post_quant_conv;

    public AutoencoderKL(AutoencoderKLConfig config, ScalarType? dtype = null, Device? device = null) : base(nameof(AutoencoderKL))
    {
        Config = config;
        encoder = new Encoder(config, dtype, device);
        decoder = new Decoder(config, dtype, device);
        quant_conv = new AdaptableConv2d(2 * config.LatentChannels, 2 * config.LatentChannels, 1, dtype: dtype, device: device);
        post_quant_conv = new AdaptableConv2d(config.LatentChannels, config.LatentChannels, 1, dtype: dtype, device: device);
        RegisterComponents();
    }

    public AutoencoderKLConfig Config { get; }

    /// <param name="images">(B, 3, H, W) in [−1, 1].</param>
    public DiagonalGaussianDistribution encode(Tensor images)
    {
        using var h = encoder.forward(images);
        using var moments = quant_conv.forward(h);
        return new DiagonalGaussianDistribution(moments);
    }

    /// <param name="latents">Unscaled latents (divide scaled ones by <see cref="AutoencoderKLConfig.ScalingFactor"/> first).</param>
    public Tensor decode(Tensor latents)
    {
        using var z = post_quant_conv.forward(latents);
        return decoder.forward(z);
    }
}
