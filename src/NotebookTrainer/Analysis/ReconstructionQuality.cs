using NotebookTrainer.Curation;
using NotebookTrainer.Images;
using NotebookTrainer.Models.Vae;
using NotebookTrainer.Sampling;
using static TorchSharp.torch;

namespace NotebookTrainer.Analysis;

/// <summary>How faithfully a VAE reproduces images: PSNR of the decoded posterior mean against the image.</summary>
public static class ReconstructionQuality
{
    /// <summary>Mean PSNR in dB over <paramref name="images"/> (8-bit range, each image's own MSE), decoded in batches.</summary>
    public static double Psnr(AutoencoderKL vae, IReadOnlyList<string> images, int batchSize = 32)
    {
        if (images.Count == 0) throw new ArgumentException("no images to measure", nameof(images));
        var device = vae.post_quant_conv.weight.device;
        var dtype = vae.post_quant_conv.weight.dtype;
        double sum = 0;
        for (var start = 0; start < images.Count; start += batchSize)
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var batch = stack(images.Skip(start).Take(batchSize).Select(path =>
            {
                using var bitmap = ImageFiles.Decode(path);
                return ImageTensors.FromBitmap(bitmap);
            })).to(device);
            using var posterior = vae.encode(batch.to(dtype));
            var decoded = vae.decode(posterior.Mean).to(ScalarType.Float32).clamp(-1, 1);
            // Pixels in [−1, 1] → [0, 1]: MSE scales by 1/4.
            var mse = (decoded - batch).square().mean([1, 2, 3]) / 4;
            sum += (10 * (1 / mse.clamp_min(1e-10)).log10()).sum().item<float>();
        }
        return sum / images.Count;
    }
}
