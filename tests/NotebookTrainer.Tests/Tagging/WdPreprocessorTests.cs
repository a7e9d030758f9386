using NotebookTrainer.Tagging;
using NotebookTrainer.Tests.Images;
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

    [Fact]
    public void Equals_the_reference_tagger_preprocessing_run_with_real_cv2()
    {
        // kohya's tag_images_by_wd14_tagger preprocess_image (BGR, pad with 255, INTER_AREA above the side,
        // INTER_LANCZOS4 below, float32), reading the PNG with cv2 instead of PIL (same pixels for 8-bit RGB).
        const string script = """
            import sys
            import cv2, numpy as np
            side = int(sys.argv[1])
            for path in sys.argv[2:]:
                image = cv2.imread(path, cv2.IMREAD_COLOR)
                size = max(image.shape[0:2])
                pad_x, pad_y = size - image.shape[1], size - image.shape[0]
                pad_l, pad_t = pad_x // 2, pad_y // 2
                image = np.pad(image, ((pad_t, pad_y - pad_t), (pad_l, pad_x - pad_l), (0, 0)), mode="constant", constant_values=255)
                interpolation = cv2.INTER_AREA if size > side else cv2.INTER_LANCZOS4
                cv2.resize(image, (side, side), interpolation=interpolation).astype(np.float32).tofile(path + ".f32")
            """;
        const int side = 448;
        (int Width, int Height)[] sizes = [(1000, 700), (896, 500), (300, 200), (448, 300), (97, 131)];
        var folder = Directory.CreateTempSubdirectory("wdprep-").FullName;
        try
        {
            var random = new Random(11);
            var paths = new List<string>();
            foreach (var (width, height) in sizes)
            {
                using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
                var pixels = bitmap.GetPixelSpan().ToArray();
                random.NextBytes(pixels);
                for (var i = 3; i < pixels.Length; i += 4) pixels[i] = 255;
                System.Runtime.InteropServices.Marshal.Copy(pixels, 0, bitmap.GetPixels(), pixels.Length);
                var path = Path.Combine(folder, $"{width}x{height}.png");
                using (var stream = File.Create(path)) bitmap.Encode(stream, SKEncodedImageFormat.Png, 100);
                paths.Add(path);
            }
            OpenCvReference.Run(script, [side.ToString(), .. paths]);

            foreach (var path in paths)
            {
                var expected = new float[side * side * 3];
                Buffer.BlockCopy(File.ReadAllBytes(path + ".f32"), 0, expected, 0, expected.Length * sizeof(float));
                var actual = new float[side * side * 3];
                WdPreprocessor.Prepare(path, side, actual);
                var differing = Enumerable.Range(0, expected.Length).Count(i => expected[i] != actual[i]);
                Assert.True(differing == 0, $"{Path.GetFileName(path)}: {differing} of {expected.Length} values differ from the cv2 reference.");
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
