using NotebookTrainer.Datasets;
using NotebookTrainer.Datasets.Config;
using NotebookTrainer.Images;
using NotebookTrainer.Training;
using NotebookTrainer.World;
using SkiaSharp;

namespace NotebookTrainer.Tests.Datasets;

public sealed class TrainingImageLoaderTests : TempDir
{
    /// <summary>Left half red, right half blue, so crops and flips are visible.</summary>
    string HalfAndHalf(int width, int height)
    {
        using var bitmap = new SKBitmap(width, height);
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(SKColors.Blue);
            using var red = new SKPaint { Color = SKColors.Red };
            canvas.DrawRect(0, 0, width / 2f, height, red);
        }
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return Write($"half{width}x{height}.png", data.ToArray());
    }

    static TrainingSample Sample(string path, (int, int) resized, bool flip = false, bool randomCrop = false) =>
        new(path, "c", false, 1f, flip, new SubsetOptions { FlipAug = flip, RandomCrop = randomCrop }, (0, 0), resized);

    [Fact]
    public void Resizes_centre_crops_and_scales_to_minus_one_one()
    {
        var path = HalfAndHalf(1024, 768);
        var chw = TrainingImageLoader.LoadChw(Sample(path, (597, 448)), (576, 448), new Random(1));

        Assert.Equal(3 * 576 * 448, chw.Length);
        Assert.All(chw, v => Assert.InRange(v, -1f, 1f));
        const int plane = 576 * 448;
        var leftPixel = 200 * 576 + 10;
        var rightPixel = 200 * 576 + 565;
        Assert.Equal((1f, -1f, -1f), (chw[leftPixel], chw[plane + leftPixel], chw[2 * plane + leftPixel]));
        Assert.Equal((-1f, -1f, 1f), (chw[rightPixel], chw[plane + rightPixel], chw[2 * plane + rightPixel]));
    }

    [Fact]
    public void Flip_mirrors_about_half_the_time_when_allowed()
    {
        var path = HalfAndHalf(512, 512);
        var flips = 0;
        var random = new Random(4);
        for (var i = 0; i < 40; i++)
        {
            var chw = TrainingImageLoader.LoadChw(Sample(path, (512, 512), flip: true), (512, 512), random);
            if (chw[10] < 0) flips++; // red channel at the left edge is -1 once blue is there
        }
        Assert.InRange(flips, 10, 30);
        var never = TrainingImageLoader.LoadChw(Sample(path, (512, 512), flip: false), (512, 512), new Random(4));
        Assert.Equal(1f, never[10]);
    }

    [Fact]
    public void Crop_offset_is_centred_or_random_within_range()
    {
        Assert.Equal((10, 0), TrainingImageLoader.CropOffset(597, 448, (576, 448), randomCrop: false, new Random(1)));
        var random = new Random(2);
        var offsets = Enumerable.Range(0, 200).Select(_ => TrainingImageLoader.CropOffset(597, 448, (576, 448), randomCrop: true, random)).ToList();
        Assert.All(offsets, o => Assert.InRange(o.X, 0, 21));
        Assert.Contains(offsets, o => o.X == 0);
        Assert.Contains(offsets, o => o.X == 21);
        Assert.Throws<ArgumentException>(() => TrainingImageLoader.CropOffset(500, 448, (576, 448), false, random));
    }

    [Fact]
    public void Batch_tensor_from_a_plan_has_the_bucket_shape()
    {
        SampleDataset.Generate(Root, count: 6);
        var plan = DatasetPlan.Build(DatasetConfig.FromFolders(Root, null, new DatasetArguments { Resolution = 512, EnableBucket = true, BatchSize = 2, CaptionExtension = ".txt" }));
        var batch = plan.BatchesForEpoch(1).First(b => b.Samples.Count == 2);

        using var tensor = TrainingImageLoader.LoadBatch(batch, new Random(0));

        Assert.Equal([2L, 3L, batch.Resolution.Height, batch.Resolution.Width], tensor.shape);
        Assert.InRange(tensor.min().item<float>(), -1f, 1f);
        Assert.InRange(tensor.max().item<float>(), -1f, 1f);
    }

    [Fact]
    public void Color_aug_leaves_two_thirds_alone_and_otherwise_shifts_hue_or_applies_a_gamma()
    {
        var (hueShifts, gammas, untouched) = (0, 0, 0);
        for (var seed = 0; seed < 300; seed++)
        {
            using var bitmap = new SKBitmap(new SKImageInfo(2, 1, SKColorType.Rgba8888, SKAlphaType.Unpremul));
            bitmap.SetPixel(0, 0, new SKColor(200, 100, 50));
            bitmap.SetPixel(1, 0, new SKColor(128, 128, 128));
            TrainingImageLoader.ColorAugment(bitmap, new Random(seed));
            var (colour, grey) = (bitmap.GetPixel(0, 0), bitmap.GetPixel(1, 0));
            if (colour == new SKColor(200, 100, 50) && grey == new SKColor(128, 128, 128)) { untouched++; continue; }
            if (grey == new SKColor(128, 128, 128))
            {
                // Hue rotation keeps a colour's largest and smallest channel (HSV value and chroma).
                byte[] channels = [colour.Red, colour.Green, colour.Blue];
                Assert.InRange(channels.Max(), 199, 201);
                Assert.InRange(channels.Min(), 49, 51);
                hueShifts++;
            }
            else
            {
                // v ↦ ⌊v^γ⌋ with one γ in [0.95, 1.05] for every channel.
                var gamma = Math.Log(grey.Red + 0.5) / Math.Log(128);
                Assert.InRange(gamma, 0.949, 1.051);
                Assert.True(grey.Red == grey.Green && grey.Green == grey.Blue);
                Assert.InRange(colour.Red, Math.Min(255, Math.Floor(Math.Pow(200, gamma)) - 1), Math.Min(255, Math.Floor(Math.Pow(200, gamma)) + 1));
                Assert.InRange(colour.Blue, Math.Floor(Math.Pow(50, gamma)) - 1, Math.Floor(Math.Pow(50, gamma)) + 1);
                gammas++;
            }
        }
        Assert.InRange(untouched, 170, 230);   // 67% of 300
        Assert.True(hueShifts > 20 && gammas > 20, $"hue shifts {hueShifts}, gammas {gammas}");
    }

    [Fact]
    public void Shrinking_equals_cv2_inter_area_like_sd_scripts()
    {
        // Noise plus edges, so every filter difference shows.
        var random = new Random(9);
        using var bitmap = new SKBitmap(new SKImageInfo(301, 187, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        var pixels = bitmap.GetPixelSpan();
        for (var p = 0; p < pixels.Length; p += 4)
        {
            pixels[p] = (byte)random.Next(256);
            pixels[p + 1] = (byte)((p / 4 % 301) < 150 ? 255 : 0);
            pixels[p + 2] = (byte)random.Next(256);
            pixels[p + 3] = 255;
        }
        using var image = SKImage.FromBitmap(bitmap);
        using var png = image.Encode(SKEncodedImageFormat.Png, 100);
        var path = Write("noise.png", png.ToArray());

        var chw = TrainingImageLoader.LoadChw(Sample(path, (160, 99)), (160, 99), new Random(1));
        var output = Tests.Images.OpenCvReference.Run("""
            import sys, cv2
            img = cv2.cvtColor(cv2.imread(sys.argv[1], cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
            out = cv2.resize(img, (160, 99), interpolation=cv2.INTER_AREA)
            sys.stdout.write(out.transpose(2, 0, 1).tobytes().hex())
            """, path);
        var expected = Convert.FromHexString(output.Trim());
        var actual = chw.Select(v => (byte)Math.Round((v + 1f) * 127.5f)).ToArray();
        Assert.Equal(expected.Length, actual.Length);
        Assert.Equal(expected, actual);
    }
}
