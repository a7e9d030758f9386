using NotebookTrainer.Images;
using SkiaSharp;

namespace NotebookTrainer.Tagging;

/// <summary>
/// WD14 input preparation, step for step as the reference taggers do it: composite alpha on white, pad to a square
/// with white (left/top get pad/2, rounded down), resize to the model side with cv2's INTER_AREA (shrinking) or
/// INTER_LANCZOS4 (enlarging) bit for bit (<see cref="CvResize"/>), BGR float32 in 0..255, NHWC, no normalisation.
/// </summary>
public static class WdPreprocessor
{
    /// <summary>Decodes and prepares one image into <paramref name="destination"/> (side×side×3 floats).</summary>
    public static void Prepare(string imagePath, int side, Span<float> destination)
    {
        using var bitmap = ImageFiles.Decode(imagePath);
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

        // As the reference: INTER_AREA when shrinking, INTER_LANCZOS4 when enlarging, a plain copy at equal size.
        // cv2 resizes each channel on its own, so resizing RGB and writing BGR equals the reference's BGR resize.
        var rgb = CvResize.PackRgb(padded);
        var resized = square == side ? rgb : new byte[side * side * 3];
        if (square > side) CvResize.Area(rgb, square, square, resized, side, side);
        else if (square < side) CvResize.Lanczos4(rgb, square, square, resized, side, side);
        for (var o = 0; o < destination.Length; o += 3)
        {
            destination[o] = resized[o + 2];
            destination[o + 1] = resized[o + 1];
            destination[o + 2] = resized[o];
        }
    }
}
