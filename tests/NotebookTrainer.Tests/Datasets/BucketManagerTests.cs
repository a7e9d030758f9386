using NotebookTrainer.Datasets.Bucketing;

namespace NotebookTrainer.Tests.Datasets;

public sealed class BucketManagerTests
{
    static readonly BucketManager Sd512 = new((512, 512), 256, 1024, 64);

    [Fact]
    public void Resolution_512_gives_kohyas_17_buckets_in_sorted_order()
    {
        Assert.Equal(
        [
            (256, 832), (256, 896), (256, 960), (256, 1024), (320, 704), (320, 768), (384, 640), (448, 576), (512, 512),
            (576, 448), (640, 384), (704, 320), (768, 320), (832, 256), (896, 256), (960, 256), (1024, 256),
        ], Sd512.Resolutions);
    }

    [Theory]
    [InlineData(1024, 768, 576, 448, 597, 448)]
    [InlineData(1920, 1080, 640, 384, 683, 384)]
    [InlineData(3000, 1000, 832, 256, 832, 277)]
    // own vectors, worked by hand from the algorithm
    [InlineData(512, 512, 512, 512, 512, 512)]      // exact bucket: no resize
    [InlineData(448, 576, 448, 576, 448, 576)]      // exact non-square bucket
    [InlineData(128, 128, 512, 512, 512, 512)]      // small square is upscaled
    [InlineData(768, 1024, 448, 576, 448, 597)]     // portrait mirror of the spec example
    [InlineData(1000, 3000, 256, 832, 277, 832)]    // tall mirror
    [InlineData(800, 600, 576, 448, 597, 448)]      // 4:3 again, other size
    [InlineData(500, 300, 640, 384, 640, 384)]      // 5:3 equals (640,384) exactly → width-bound scale 1.28
    [InlineData(1000, 100, 1024, 256, 2560, 256)]   // beyond the widest bucket: cover by height
    public void Selects_bucket_and_cover_resize(int w, int h, int bw, int bh, int rw, int rh)
    {
        var a = Sd512.Select(w, h);
        Assert.Equal((bw, bh), a.Bucket);
        Assert.Equal((rw, rh), a.Resized);
        Assert.True(a.Resized.Width >= a.Bucket.Width && a.Resized.Height >= a.Bucket.Height);
    }

    [Theory]
    [InlineData(1024, 768, 512, 384, 512, 384)]    // spec example
    [InlineData(400, 300, 384, 256, 400, 300)]     // smaller than the area: no resize, crop to the step
    [InlineData(1920, 1080, 640, 384, 683, 384)]   // height-first rounding wins (aspect 1.667 vs 2.0 for width-first)
    [InlineData(2048, 2048, 512, 512, 512, 512)]
    public void No_upscale_shrinks_only_large_images_and_crops_to_the_step(int w, int h, int bw, int bh, int rw, int rh)
    {
        var manager = new BucketManager((512, 512), 256, 1024, 64, noUpscale: true);
        var a = manager.Select(w, h);
        Assert.Equal((bw, bh), a.Bucket);
        Assert.Equal((rw, rh), a.Resized);
    }

    [Fact]
    public void Nearly_equidistant_aspect_resolves_by_double_precision_like_numpy_argmin()
    {
        // 800/900 = 0.889 lies halfway between (448,576) = 0.778 and (512,512) = 1.0; in doubles the first is nearer.
        var a = Sd512.Select(800, 900);
        Assert.Equal((448, 576), a.Bucket);
    }

    [Fact]
    public void Fixed_bucket_covers_and_crops_to_the_resolution()
    {
        var manager = BucketManager.Fixed((512, 512));
        var a = manager.Select(1024, 768);
        Assert.Equal((512, 512), a.Bucket);
        Assert.Equal((683, 512), a.Resized);
        Assert.Equal((85, 0, 512, 512), BucketManager.CenterCrop(a));
    }

    [Fact]
    public void Every_bucket_fits_the_area_and_limits()
    {
        foreach (var (reso, min, max) in new[] { ((768, 768), 256, 1536), ((1024, 1024), 512, 2048), ((512, 768), 320, 1024) })
        {
            var buckets = BucketManager.MakeBucketResolutions(reso, min, max, 64);
            Assert.All(buckets, b =>
            {
                Assert.True((long)b.Width * b.Height <= (long)reso.Item1 * reso.Item2);
                Assert.Equal(0, b.Width % 64);
                Assert.Equal(0, b.Height % 64);
                Assert.True(Math.Min(b.Width, b.Height) >= min || b.Width == b.Height);
            });
            Assert.Equal(buckets.Order(), buckets);
            Assert.All(buckets, b => Assert.Contains((b.Height, b.Width), buckets));
        }
    }
}
