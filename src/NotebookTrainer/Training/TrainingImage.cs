using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.Training;

/// <summary>An image as the VAE sees it: resized to cover the bucket, centre-cropped, optionally mirrored, RGB in [−1, 1], (3, H, W).</summary>
public static class TrainingImage
{
    public static Tensor Load(string path, (int Width, int Height) resized, (int Width, int Height) bucket, bool flip)
    {
        using var decoded = SKBitmap.Decode(path) ?? throw new InvalidDataException($"{path}: not a readable image (PNG, JPEG, WebP or BMP).");
        using var scaled = decoded.Resize(new SKImageInfo(resized.Width, resized.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul),
            new SKSamplingOptions(SKCubicResampler.Mitchell)) ?? throw new InvalidDataException($"{path}: could not be resized to {resized.Width}×{resized.Height}.");
        var left = (resized.Width - bucket.Width) / 2;
        var top = (resized.Height - bucket.Height) / 2;
        var rgba = scaled.GetPixelSpan();
        var pixels = new float[3 * bucket.Width * bucket.Height];
        var plane = bucket.Width * bucket.Height;
        for (var y = 0; y < bucket.Height; y++)
            for (var x = 0; x < bucket.Width; x++)
            {
                var sx = flip ? left + bucket.Width - 1 - x : left + x;
                var s = ((top + y) * scaled.Width + sx) * 4;
                // Transparent pixels are composited on white, as kohya does for images without alpha_mask.
                var a = rgba[s + 3] / 255f;
                var o = y * bucket.Width + x;
                for (var c = 0; c < 3; c++)
                    pixels[c * plane + o] = (rgba[s + c] * a + 255 * (1 - a)) / 127.5f - 1f;
            }
        return tensor(pixels, new long[] { 3, bucket.Height, bucket.Width });
    }
}
