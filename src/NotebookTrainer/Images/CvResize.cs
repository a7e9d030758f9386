namespace NotebookTrainer.Images;

/// <summary>
/// OpenCV's <c>cv2.resize</c> for 8-bit 3-channel images (H×W×3 bytes, any channel order), bit for bit with the CPU
/// path of OpenCV 4.6 (no IPP): <see cref="Area"/> is INTER_AREA for shrinking, <see cref="Lanczos4"/> is
/// INTER_LANCZOS4. Equal sizes copy, as cv2 does.
/// </summary>
public static class CvResize
{
    const int Channels = 3;
    const int CoefficientBits = 11; // OpenCV's INTER_RESIZE_COEF_BITS: 8-bit Lanczos runs in fixed point
    const int CoefficientScale = 1 << CoefficientBits;
    const double DblEpsilon = 2.220446049250313e-16; // C's DBL_EPSILON (not .NET's double.Epsilon)

    /// <summary>The RGB channels of an 8888 bitmap packed as H×W×3 bytes, the layout these functions take.</summary>
    public static byte[] PackRgb(SkiaSharp.SKBitmap bitmap)
    {
        var pixels = bitmap.GetPixelSpan();
        var rgb = new byte[bitmap.Width * bitmap.Height * Channels];
        for (int p = 0, o = 0; o < rgb.Length; p += 4, o += Channels)
        {
            rgb[o] = pixels[p];
            rgb[o + 1] = pixels[p + 1];
            rgb[o + 2] = pixels[p + 2];
        }
        return rgb;
    }

    /// <summary>
    /// The alpha channel of an 8888 bitmap repeated into the three packed channels: cv2 resizes each channel of a
    /// 4-channel image on its own, so resizing this and keeping one channel is how cv2 resizes the alpha.
    /// </summary>
    public static byte[] PackAlpha(SkiaSharp.SKBitmap bitmap)
    {
        var pixels = bitmap.GetPixelSpan();
        var packed = new byte[bitmap.Width * bitmap.Height * Channels];
        for (int p = 3, o = 0; o < packed.Length; p += 4, o += Channels)
            packed[o] = packed[o + 1] = packed[o + 2] = pixels[p];
        return packed;
    }

    /// <summary>INTER_AREA down-scale; both target sides must be at most the source sides.</summary>
    public static void Area(ReadOnlySpan<byte> source, int sourceWidth, int sourceHeight, Span<byte> destination, int width, int height)
    {
        CheckSizes(source, sourceWidth, sourceHeight, destination, width, height);
        if (width > sourceWidth || height > sourceHeight)
            throw new ArgumentException($"INTER_AREA here only shrinks; {sourceWidth}x{sourceHeight} -> {width}x{height} enlarges (use Lanczos4).");
        if (width == sourceWidth && height == sourceHeight)
        {
            source.CopyTo(destination);
            return;
        }
        // cv2 works with the reciprocal of the inverse scale, which need not equal source/destination exactly.
        var scaleX = 1.0 / ((double)width / sourceWidth);
        var scaleY = 1.0 / ((double)height / sourceHeight);
        var integerX = (int)Math.Round(scaleX);
        var integerY = (int)Math.Round(scaleY);
        if (Math.Abs(scaleX - integerX) < DblEpsilon && Math.Abs(scaleY - integerY) < DblEpsilon)
            AreaIntegerFactor(source, sourceWidth, destination, width, height, integerX, integerY);
        else
            AreaFractional(source, sourceWidth, sourceHeight, destination, width, height, scaleX, scaleY);
    }

    /// <summary>INTER_LANCZOS4 (8×8 windowed sinc, replicated border); used by the reference taggers for enlarging.</summary>
    public static void Lanczos4(ReadOnlySpan<byte> source, int sourceWidth, int sourceHeight, Span<byte> destination, int width, int height)
    {
        CheckSizes(source, sourceWidth, sourceHeight, destination, width, height);
        if (width == sourceWidth && height == sourceHeight)
        {
            source.CopyTo(destination);
            return;
        }
        var rowLength = width * Channels;
        var (xOffsets, xWeights) = Lanczos4Taps(sourceWidth, width, Channels);
        var (yOffsets, yWeights) = Lanczos4Taps(sourceHeight, height, rowLength);

        // Horizontal pass over every source row once, then the vertical pass; exact integer sums, as in cv2.
        var horizontal = new int[sourceHeight * rowLength];
        for (var sy = 0; sy < sourceHeight; sy++)
        {
            var sourceRow = source.Slice(sy * sourceWidth * Channels, sourceWidth * Channels);
            var row = horizontal.AsSpan(sy * rowLength, rowLength);
            for (var dx = 0; dx < width; dx++)
            {
                var taps = xOffsets.AsSpan(dx * 8, 8);
                var weights = xWeights.AsSpan(dx * 8, 8);
                for (var c = 0; c < Channels; c++)
                {
                    var sum = 0;
                    for (var k = 0; k < 8; k++) sum += sourceRow[taps[k] + c] * weights[k];
                    row[dx * Channels + c] = sum;
                }
            }
        }

        const int shift = CoefficientBits * 2;
        const int half = 1 << (shift - 1);
        for (var dy = 0; dy < height; dy++)
        {
            var rows = yOffsets.AsSpan(dy * 8, 8);
            var weights = yWeights.AsSpan(dy * 8, 8);
            var output = destination.Slice(dy * rowLength, rowLength);
            for (var x = 0; x < rowLength; x++)
            {
                var sum = 0;
                for (var k = 0; k < 8; k++) sum += horizontal[rows[k] + x] * weights[k];
                output[x] = (byte)Math.Clamp((sum + half) >> shift, 0, 255);
            }
        }
    }

    static void CheckSizes(ReadOnlySpan<byte> source, int sourceWidth, int sourceHeight, Span<byte> destination, int width, int height)
    {
        if (sourceWidth <= 0 || sourceHeight <= 0 || width <= 0 || height <= 0)
            throw new ArgumentException($"Sizes must be positive: {sourceWidth}x{sourceHeight} -> {width}x{height}.");
        if (source.Length != sourceWidth * sourceHeight * Channels)
            throw new ArgumentException($"source holds {source.Length} bytes, {sourceWidth}x{sourceHeight}x3 = {sourceWidth * sourceHeight * Channels} needed.", nameof(source));
        if (destination.Length != width * height * Channels)
            throw new ArgumentException($"destination holds {destination.Length} bytes, {width}x{height}x3 = {width * height * Channels} needed.", nameof(destination));
    }

    /// <summary>Whole-number factors: a plain box mean; cv2 rounds 2×2 boxes with (sum+2)>>2 and others through a float.</summary>
    static void AreaIntegerFactor(ReadOnlySpan<byte> source, int sourceWidth, Span<byte> destination, int width, int height, int factorX, int factorY)
    {
        var sourceStride = sourceWidth * Channels;
        var scale = 1f / (factorX * factorY);
        for (var dy = 0; dy < height; dy++)
        {
            var top = dy * factorY * sourceStride;
            var output = destination.Slice(dy * width * Channels, width * Channels);
            for (var dx = 0; dx < width; dx++)
            {
                var left = top + dx * factorX * Channels;
                for (var c = 0; c < Channels; c++)
                {
                    var sum = 0;
                    for (var y = 0; y < factorY; y++)
                    {
                        var at = left + y * sourceStride + c;
                        for (var x = 0; x < factorX; x++) sum += source[at + x * Channels];
                    }
                    output[dx * Channels + c] = factorX == 2 && factorY == 2 ? (byte)((sum + 2) >> 2) : RoundToByte(sum * scale);
                }
            }
        }
    }

    /// <summary>
    /// Fractional factors: each destination pixel is the area-weighted mean of the source cells it covers. Weights are
    /// floats from cv2's double-precision table; sums run in float in the same order as cv2 (rows: source x ascending;
    /// columns: first covered row assigns, later rows add).
    /// </summary>
    static void AreaFractional(ReadOnlySpan<byte> source, int sourceWidth, int sourceHeight, Span<byte> destination, int width, int height, double scaleX, double scaleY)
    {
        var xTable = AreaTable(sourceWidth, width, scaleX);
        var yTable = AreaTable(sourceHeight, height, scaleY);
        var rowLength = width * Channels;
        var horizontal = new float[rowLength];
        var sum = new float[rowLength];
        var horizontalRow = -1;
        var k = 0;
        for (var dy = 0; dy < height; dy++)
        {
            var first = true;
            for (; k < yTable.Length && yTable[k].Destination == dy; k++)
            {
                var (sy, _, beta) = yTable[k];
                if (sy != horizontalRow)
                {
                    AreaRow(source.Slice(sy * sourceWidth * Channels, sourceWidth * Channels), xTable, horizontal);
                    horizontalRow = sy;
                }
                if (first)
                    for (var x = 0; x < rowLength; x++) sum[x] = beta * horizontal[x];
                else
                    for (var x = 0; x < rowLength; x++) sum[x] += beta * horizontal[x];
                first = false;
            }
            var output = destination.Slice(dy * rowLength, rowLength);
            for (var x = 0; x < rowLength; x++) output[x] = RoundToByte(sum[x]);
        }
    }

    static void AreaRow(ReadOnlySpan<byte> sourceRow, (int Source, int Destination, float Weight)[] xTable, Span<float> horizontal)
    {
        horizontal.Clear();
        foreach (var (sx, dx, alpha) in xTable)
        {
            var s = sx * Channels;
            var d = dx * Channels;
            horizontal[d] += sourceRow[s] * alpha;
            horizontal[d + 1] += sourceRow[s + 1] * alpha;
            horizontal[d + 2] += sourceRow[s + 2] * alpha;
        }
    }

    /// <summary>cv2's area table: per destination cell, the partial first source cell, the whole ones, the partial last one.</summary>
    static (int Source, int Destination, float Weight)[] AreaTable(int sourceSize, int size, double scale)
    {
        var table = new List<(int, int, float)>(sourceSize * 2);
        for (var d = 0; d < size; d++)
        {
            var start = d * scale;
            var end = start + scale;
            var cellWidth = Math.Min(scale, sourceSize - start);
            var firstWhole = (int)Math.Ceiling(start);
            var lastWhole = Math.Min((int)Math.Floor(end), sourceSize - 1);
            firstWhole = Math.Min(firstWhole, lastWhole);
            if (firstWhole - start > 1e-3)
                table.Add((firstWhole - 1, d, (float)((firstWhole - start) / cellWidth)));
            for (var s = firstWhole; s < lastWhole; s++)
                table.Add((s, d, (float)(1.0 / cellWidth)));
            if (end - lastWhole > 1e-3)
                table.Add((lastWhole, d, (float)(Math.Min(Math.Min(end - lastWhole, 1.0), cellWidth) / cellWidth)));
        }
        return table.ToArray();
    }

    /// <summary>
    /// Per destination position: 8 source offsets (source index clamped to the edge like cv2's replicated border, times
    /// <paramref name="stride"/>) and 8 fixed-point weights (×2048, rounded half to even, not renormalised).
    /// </summary>
    static (int[] Offsets, int[] Weights) Lanczos4Taps(int sourceSize, int size, int stride)
    {
        var scale = 1.0 / ((double)size / sourceSize);
        var offsets = new int[size * 8];
        var weights = new int[size * 8];
        Span<float> coefficients = stackalloc float[8];
        for (var d = 0; d < size; d++)
        {
            var position = (float)((d + 0.5) * scale - 0.5);
            var floor = (int)MathF.Floor(position);
            position -= floor;
            Lanczos4Coefficients(position, coefficients);
            for (var k = 0; k < 8; k++)
            {
                offsets[d * 8 + k] = Math.Clamp(floor - 3 + k, 0, sourceSize - 1) * stride;
                weights[d * 8 + k] = Math.Clamp((int)MathF.Round(coefficients[k] * CoefficientScale), short.MinValue, short.MaxValue);
            }
        }
        return (offsets, weights);
    }

    static void Lanczos4Coefficients(float x, Span<float> coefficients)
    {
        // sin(π(x+3-i)/4) for the 8 taps from one sine and cosine: the angle steps by π/4 per tap.
        const double s45 = 0.70710678118654752440084436210485;
        ReadOnlySpan<double> sineWeights = [1, -s45, 0, s45, -1, s45, 0, -s45];
        ReadOnlySpan<double> cosineWeights = [0, -s45, 1, -s45, 0, s45, -1, s45];
        var y0 = -(x + 3) * Math.PI * 0.25;
        var s0 = Math.Sin(y0);
        var c0 = Math.Cos(y0);
        var sum = 0f;
        for (var i = 0; i < 8; i++)
        {
            var distance = x + 3 - i;
            if (MathF.Abs(distance) >= 1e-6f)
            {
                var y = -distance * Math.PI * 0.25;
                coefficients[i] = (float)((sineWeights[i] * s0 + cosineWeights[i] * c0) / (y * y));
            }
            else
                coefficients[i] = 1e30f; // the tap under the sample point takes all the weight
            sum += coefficients[i];
        }
        sum = 1f / sum;
        for (var i = 0; i < 8; i++) coefficients[i] *= sum;
    }

    /// <summary>cv2's saturate_cast&lt;uchar&gt;(float): round half to even, clamp.</summary>
    static byte RoundToByte(float value) => (byte)Math.Clamp((int)MathF.Round(value), 0, 255);
}
