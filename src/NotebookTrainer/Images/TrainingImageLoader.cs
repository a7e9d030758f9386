using NotebookTrainer.Datasets;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.Images;

/// <summary>
/// Turns a <see cref="TrainingSample"/> into the pixels kohya feeds the VAE: decode as RGB (alpha dropped, as PIL's
/// convert("RGB") does), resize to the sample's resized size (area-like filtering when shrinking, cubic when
/// enlarging), crop to the bucket (centre, or a random offset with random_crop), flip horizontally with probability
/// 0.5 when flip_aug allows it, and scale to [-1, 1], channels first.
/// </summary>
public static class TrainingImageLoader
{
    /// <summary>3 × height × width floats in [-1, 1] for one sample cropped to <paramref name="bucket"/>.</summary>
    public static float[] LoadChw(TrainingSample sample, (int Width, int Height) bucket, Random random)
    {
        using var resized = DecodeResized(sample.ImagePath, sample.ResizedSize);
        var (x0, y0) = CropOffset(resized.Width, resized.Height, bucket, sample.Subset.RandomCrop, random);
        var flip = sample.FlipAllowed && random.NextDouble() < 0.5;

        var (w, h) = bucket;
        var plane = w * h;
        var chw = new float[3 * plane];
        var pixels = resized.GetPixelSpan();
        var stride = resized.RowBytes;
        for (var y = 0; y < h; y++)
        {
            var row = (y0 + y) * stride;
            for (var x = 0; x < w; x++)
            {
                var sourceX = x0 + (flip ? w - 1 - x : x);
                var p = row + sourceX * 4;
                var o = y * w + x;
                chw[o] = pixels[p] / 127.5f - 1f;
                chw[plane + o] = pixels[p + 1] / 127.5f - 1f;
                chw[2 * plane + o] = pixels[p + 2] / 127.5f - 1f;
            }
        }
        return chw;
    }

    /// <summary>The batch as a float32 tensor (B, 3, H, W) on <paramref name="device"/> (CPU when null).</summary>
    public static Tensor LoadBatch(TrainingBatch batch, Random random, Device? device = null)
    {
        var (w, h) = batch.Resolution;
        var data = new float[batch.Samples.Count * 3 * h * w];
        for (var i = 0; i < batch.Samples.Count; i++)
            LoadChw(batch.Samples[i], batch.Resolution, random).CopyTo(data, i * 3 * h * w);
        var tensor = torch.tensor(data, [batch.Samples.Count, 3, h, w], ScalarType.Float32);
        if (device == null || device.type == DeviceType.CPU) return tensor;
        using (tensor) return tensor.to(device);
    }

    /// <summary>Top-left corner of the crop: centred, or uniform over the valid range with random_crop.</summary>
    public static (int X, int Y) CropOffset(int resizedWidth, int resizedHeight, (int Width, int Height) bucket, bool randomCrop, Random random)
    {
        var spareX = resizedWidth - bucket.Width;
        var spareY = resizedHeight - bucket.Height;
        if (spareX < 0 || spareY < 0)
            throw new ArgumentException($"resized {resizedWidth}x{resizedHeight} does not cover bucket {bucket.Width}x{bucket.Height}");
        return randomCrop ? (random.Next(spareX + 1), random.Next(spareY + 1)) : (spareX / 2, spareY / 2);
    }

    static SKBitmap DecodeResized(string path, (int Width, int Height) size)
    {
        using var codec = SKCodec.Create(path) ?? throw new InvalidDataException($"{path}: cannot decode the image; run 'ntrain dataset inspect' to find broken files.");
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var decoded = new SKBitmap(info);
        var result = codec.GetPixels(info, decoded.GetPixels());
        if (result != SKCodecResult.Success)
            throw new InvalidDataException($"{path}: decoding failed ({result}); run 'ntrain dataset inspect' to find broken files.");
        if ((decoded.Width, decoded.Height) == size) return decoded.Copy();

        var shrinking = size.Width < decoded.Width;
        var sampling = shrinking
            ? new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear)
            : new SKSamplingOptions(SKCubicResampler.CatmullRom);
        return decoded.Resize(new SKImageInfo(size.Width, size.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul), sampling)
            ?? throw new InvalidDataException($"{path}: resizing to {size.Width}x{size.Height} failed.");
    }
}
