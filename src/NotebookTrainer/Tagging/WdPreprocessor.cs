using SkiaSharp;

namespace NotebookTrainer.Tagging;

/// <summary>
/// WD14 input preparation, step for step as the reference taggers do it: composite alpha on white, pad to a square
/// with white (left/top get pad/2, rounded down), resize to the model side, BGR float32 in 0..255, NHWC, no normalisation.
/// </summary>
public static class WdPreprocessor
{
    /// <summary>Decodes and prepares one image into <paramref name="destination"/> (side×side×3 floats).</summary>
    public static void Prepare(string imagePath, int side, Span<float> destination)
    {
        using var bitmap = Curation.ImageFiles.Decode(imagePath);
        Prepare(bitmap, side, destination);
    }

    public static void Prepare(SKBitmap bitmap, int side, Span<float> destination)
    {
        if (destination.Length != side * side * 3)
            throw new ArgumentException($"destination holds {destination.Length} floats, {side}x{side}x3 = {side * side * 3} needed.", nameof(destination));
        var w = bitmap.Width;
        var h = bitmap.Height;
        var square = Math.Max(w, h);

        using var padded = new SKBitmap(new SKImageInfo(square, square, SKColorType.Rgba8888, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(padded))
        {
            canvas.Clear(SKColors.White);
            canvas.DrawBitmap(bitmap, (square - w) / 2, (square - h) / 2);
        }

        using var resized = new SKBitmap(new SKImageInfo(side, side, SKColorType.Rgba8888, SKAlphaType.Premul));
        // Shrinking averages with mipmaps (close to cv2 INTER_AREA); enlarging uses a cubic filter (close to Lanczos).
        var sampling = square >= side ? new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear) : new SKSamplingOptions(SKCubicResampler.CatmullRom);
        if (!padded.ScalePixels(resized, sampling))
            throw new InvalidOperationException($"SkiaSharp could not resize a {square}x{square} image to {side}x{side}.");

        var pixels = resized.GetPixelSpan();
        for (int p = 0, o = 0; o < destination.Length; p += 4, o += 3)
        {
            destination[o] = pixels[p + 2];
            destination[o + 1] = pixels[p + 1];
            destination[o + 2] = pixels[p];
        }
    }
}
