using System.Runtime.InteropServices;
using SkiaSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.Sampling;

/// <summary>Conversions between image tensors in [−1, 1] and SkiaSharp bitmaps / PNG bytes.</summary>
public static class ImageTensors
{
    /// <param name="image">(3, H, W) in [−1, 1].</param>
    public static SKBitmap ToBitmap(Tensor image)
    {
        using var scope = NewDisposeScope();
        var height = (int)image.shape[1];
        var width = (int)image.shape[2];
        var rgb = ((image.to(ScalarType.Float32).cpu() + 1) * 127.5f).round().clamp(0, 255).to(ScalarType.Byte);
        var alpha = full([1, height, width], 255, dtype: ScalarType.Byte);
        var rgba = cat([rgb, alpha], 0).permute(1, 2, 0).contiguous();
        var bytes = rgba.data<byte>().ToArray();
        var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        Marshal.Copy(bytes, 0, bitmap.GetPixels(), bytes.Length);
        return bitmap;
    }

    /// <summary>(3, H, W) in [−1, 1] from an RGBA bitmap (alpha ignored).</summary>
    public static Tensor FromBitmap(SKBitmap bitmap)
    {
        using var rgba = bitmap.ColorType == SKColorType.Rgba8888 ? null : bitmap.Copy(SKColorType.Rgba8888);
        var source = rgba ?? bitmap;
        var bytes = source.GetPixelSpan().ToArray();
        using var scope = NewDisposeScope();
        var hwc = tensor(bytes, [source.Height, source.Width, 4], ScalarType.Byte).narrow(2, 0, 3);
        return (hwc.permute(2, 0, 1).to(ScalarType.Float32) / 127.5f - 1).MoveToOuterDisposeScope();
    }

    public static byte[] ToPng(SKBitmap bitmap)
    {
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }
}
