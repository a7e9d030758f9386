using NotebookTrainer.Images;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.Datasets;

/// <summary>
/// Turns a <see cref="TrainingSample"/> into the pixels kohya feeds the VAE: decode as RGB (alpha dropped, as PIL's
/// convert("RGB") does), resize to the sample's resized size (cv2 INTER_AREA when shrinking, exactly as sd-scripts;
/// a Catmull-Rom cubic standing in for its PIL Lanczos when enlarging), crop to the bucket (centre, or a random offset with random_crop), recolour with color_aug, flip
/// horizontally with probability 0.5 when flip_aug allows it, and scale to [-1, 1], channels first. With the
/// subset's alpha_mask the alpha channel comes along through the same resize, crop and flip, as the loss mask.
/// </summary>
public static class TrainingImageLoader
{
    /// <summary>3 × height × width floats in [-1, 1] for one sample cropped to <paramref name="bucket"/>.</summary>
    public static float[] LoadChw(TrainingSample sample, (int Width, int Height) bucket, Random random) => Load(sample, bucket, random).Chw;

    /// <summary>
    /// The pixels as <see cref="LoadChw"/> gives them, and with the subset's alpha_mask the alpha channel over the
    /// same crop as height × width floats in [0, 1] (1 = opaque; an image without alpha is all 1).
    /// </summary>
    public static (float[] Chw, float[]? Alpha) Load(TrainingSample sample, (int Width, int Height) bucket, Random random)
    {
        using var resized = DecodeResized(sample.ImagePath, sample.ResizedSize, keepAlpha: sample.Subset.AlphaMask);
        var (x0, y0) = CropOffset(resized.Width, resized.Height, bucket, sample.Subset.RandomCrop, random);
        var flip = sample.FlipAllowed && random.NextDouble() < 0.5;
        if (sample.Subset.ColorAug) ColorAugment(resized, random);

        var (w, h) = bucket;
        var plane = w * h;
        var chw = new float[3 * plane];
        var alpha = sample.Subset.AlphaMask ? new float[plane] : null;
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
                if (alpha is not null) alpha[o] = pixels[p + 3] / 255f;
            }
        }
        return (chw, alpha);
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

    /// <summary>
    /// kohya's color_aug: one time in three, either shift the hue by up to ±8 OpenCV hue units (±16°) or raise every
    /// 0..255 channel value to a power in [0.95, 1.05], clip and truncate, each half the time. Hue goes through HSV in
    /// floating point rather than OpenCV's 8-bit HSV, so single values may differ by one step from sd-scripts.
    /// </summary>
    public static void ColorAugment(SKBitmap bitmap, Random random)
    {
        if (random.NextDouble() > 0.33) return;
        var pixels = bitmap.GetPixelSpan();
        if (random.NextDouble() > 0.5)
        {
            var shiftDegrees = (random.NextDouble() * 16 - 8) * 2;
            for (var p = 0; p < pixels.Length; p += 4)
                ShiftHue(pixels.Slice(p, 3), shiftDegrees);
        }
        else
        {
            var gamma = 0.95 + random.NextDouble() * 0.1;
            Span<byte> table = stackalloc byte[256];
            for (var v = 0; v < 256; v++) table[v] = (byte)Math.Min(255, Math.Pow(v, gamma));
            for (var p = 0; p < pixels.Length; p += 4)
                for (var c = 0; c < 3; c++) pixels[p + c] = table[pixels[p + c]];
        }
    }

    static void ShiftHue(Span<byte> rgb, double degrees)
    {
        double r = rgb[0] / 255.0, g = rgb[1] / 255.0, b = rgb[2] / 255.0;
        var max = Math.Max(r, Math.Max(g, b));
        var min = Math.Min(r, Math.Min(g, b));
        var chroma = max - min;
        if (chroma == 0) return;
        var hue = max == r ? 60 * ((g - b) / chroma) : max == g ? 60 * ((b - r) / chroma + 2) : 60 * ((r - g) / chroma + 4);
        hue = ((hue + degrees) % 360 + 360) % 360;
        var x = chroma * (1 - Math.Abs(hue / 60 % 2 - 1));
        var (r1, g1, b1) = (int)(hue / 60) switch
        {
            0 => (chroma, x, 0.0),
            1 => (x, chroma, 0.0),
            2 => (0.0, chroma, x),
            3 => (0.0, x, chroma),
            4 => (x, 0.0, chroma),
            _ => (chroma, 0.0, x),
        };
        var m = max - chroma;
        rgb[0] = (byte)Math.Round((r1 + m) * 255);
        rgb[1] = (byte)Math.Round((g1 + m) * 255);
        rgb[2] = (byte)Math.Round((b1 + m) * 255);
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

    /// <summary>cv2 INTER_AREA on the channels, bit for bit, as sd-scripts shrinks training images; alpha only when asked (else opaque).</summary>
    static SKBitmap ShrinkLikeCv2(SKBitmap decoded, (int Width, int Height) size, bool hasAlpha)
    {
        var resizedRgb = new byte[size.Width * size.Height * 3];
        CvResize.Area(CvResize.PackRgb(decoded), decoded.Width, decoded.Height, resizedRgb, size.Width, size.Height);
        var resizedAlpha = hasAlpha ? new byte[resizedRgb.Length] : null;
        if (resizedAlpha is not null) CvResize.Area(CvResize.PackAlpha(decoded), decoded.Width, decoded.Height, resizedAlpha, size.Width, size.Height);
        var resized = new SKBitmap(new SKImageInfo(size.Width, size.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        var target = resized.GetPixelSpan();
        for (int p = 0, o = 0; o < resizedRgb.Length; p += 4, o += 3)
        {
            target[p] = resizedRgb[o];
            target[p + 1] = resizedRgb[o + 1];
            target[p + 2] = resizedRgb[o + 2];
            target[p + 3] = resizedAlpha?[o] ?? 255;
        }
        return resized;
    }

    static SKBitmap DecodeResized(string path, (int Width, int Height) size, bool keepAlpha)
    {
        using var codec = ImageFiles.OpenCodec(path);
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var decoded = new SKBitmap(info);
        var result = codec.GetPixels(info, decoded.GetPixels());
        if (result != SKCodecResult.Success)
            throw new InvalidDataException($"{path}: decoding failed ({result}); run 'ntrain dataset inspect' to find broken files.");
        if ((decoded.Width, decoded.Height) == size) return decoded.Copy();

        if (size.Width <= decoded.Width && size.Height <= decoded.Height) return ShrinkLikeCv2(decoded, size, keepAlpha && codec.Info.AlphaType != SKAlphaType.Opaque);
        return decoded.Resize(new SKImageInfo(size.Width, size.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul), new SKSamplingOptions(SKCubicResampler.CatmullRom))
            ?? throw new InvalidDataException($"{path}: resizing to {size.Width}x{size.Height} failed.");
    }
}
