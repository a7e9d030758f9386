using NotebookTrainer.Tagging;
using SkiaSharp;

namespace NotebookTrainer.Tests.Tagging;

public class WdPreprocessorTests
{
    [Fact]
    public void Composites_alpha_on_white_pads_top_with_half_the_padding_and_orders_bgr()
    {
        // 4 wide, 1 high: padding 3 rows, 1 above (3/2 rounded down) and 2 below.
        using var bitmap = new SKBitmap(new SKImageInfo(4, 1, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        bitmap.SetPixel(0, 0, new SKColor(200, 10, 20, 255));
        bitmap.SetPixel(1, 0, new SKColor(0, 0, 0, 0));
        bitmap.SetPixel(2, 0, new SKColor(0, 0, 0, 255));
        bitmap.SetPixel(3, 0, new SKColor(0, 0, 255, 255));
        var x = new float[4 * 4 * 3];
        WdPreprocessor.Prepare(bitmap, 4, x);

        float[] Pixel(int row, int col) => x.AsSpan((row * 4 + col) * 3, 3).ToArray();
        for (var col = 0; col < 4; col++)
        {
            Assert.Equal([255f, 255f, 255f], Pixel(0, col));
            Assert.Equal([255f, 255f, 255f], Pixel(2, col));
            Assert.Equal([255f, 255f, 255f], Pixel(3, col));
        }
        Assert.Equal([20f, 10f, 200f], Pixel(1, 0));
        Assert.Equal([255f, 255f, 255f], Pixel(1, 1));
        Assert.Equal([0f, 0f, 0f], Pixel(1, 2));
        Assert.Equal([255f, 0f, 0f], Pixel(1, 3));
    }

    [Fact]
    public void Resizes_to_the_model_side_keeping_values_in_0_to_255()
    {
        using var bitmap = new SKBitmap(new SKImageInfo(300, 100, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        bitmap.Erase(new SKColor(0, 128, 255));
        var x = new float[64 * 64 * 3];
        WdPreprocessor.Prepare(bitmap, 64, x);
        Assert.Equal([255f, 128f, 0f], x.AsSpan((32 * 64 + 32) * 3, 3).ToArray());
        Assert.Equal([255f, 255f, 255f], x.AsSpan(0, 3).ToArray());
        Assert.All(x, v => Assert.InRange(v, 0f, 255f));
    }
}
