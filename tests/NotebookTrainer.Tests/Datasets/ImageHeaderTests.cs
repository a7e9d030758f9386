using NotebookTrainer.Images;
using SkiaSharp;

namespace NotebookTrainer.Tests.Datasets;

public sealed class ImageHeaderTests : TempDir
{
    [Theory]
    [InlineData("a.png", 640, 384)]
    [InlineData("b.jpg", 333, 517)]
    [InlineData("c.webp", 300, 200)]
    public void Reads_the_size_SkiaSharp_decodes_for_real_files(string name, int width, int height)
    {
        var format = ImageHeader.FormatForExtension(Path.GetExtension(name)) switch
        {
            ImageFormat.Png => SKEncodedImageFormat.Png,
            ImageFormat.Jpeg => SKEncodedImageFormat.Jpeg,
            _ => SKEncodedImageFormat.Webp,
        };
        var path = Write(name, TestImages.Encode(width, height, format));
        using var decoded = SKBitmap.Decode(path);

        var info = ImageHeader.Read(path);

        Assert.True(info.IsUsable, string.Join("; ", info.Problems));
        Assert.Empty(info.Problems);
        Assert.Equal((decoded.Width, decoded.Height), (info.Width, info.Height));
        Assert.Equal(ImageHeader.FormatForExtension(Path.GetExtension(name)), info.Format);
    }

    [Fact]
    public void Reads_progressive_jpeg_lossless_and_extended_webp_and_bmp_headers()
    {
        Assert.Equal((1200, 800), Size(ImageHeader.Read(Write("p.jpg", TestImages.ProgressiveJpegHeader(1200, 800)))));
        Assert.Equal((1000, 3000), Size(ImageHeader.Read(Write("l.webp", TestImages.WebPLossless(1000, 3000)))));
        Assert.Equal((10000, 5), Size(ImageHeader.Read(Write("x.webp", TestImages.WebPExtended(10000, 5)))));
        var bmp = ImageHeader.Read(Write("b.bmp", TestImages.Bmp(31, 17)));
        Assert.Equal((31, 17), Size(bmp));
        Assert.True(bmp.IsUsable);
        Assert.Equal((8, 6), Size(ImageHeader.Read(Write("t.bmp", TestImages.Bmp(8, 6, topDown: true)))));
    }

    [Fact]
    public void Zero_byte_file_is_an_error()
    {
        var info = ImageHeader.Read(Write("empty.png", []));
        Assert.False(info.IsUsable);
        Assert.Contains(info.Problems, p => p.IsError && p.Message.Contains("empty file"));
    }

    [Fact]
    public void Truncated_png_and_jpeg_are_errors_that_keep_the_header_size()
    {
        var png = TestImages.Png(256, 128);
        var jpeg = TestImages.Jpeg(256, 128);
        var cutPng = ImageHeader.Read(Write("cut.png", png[..(png.Length / 2)]));
        var cutJpeg = ImageHeader.Read(Write("cut.jpg", jpeg[..(jpeg.Length / 2)]));
        var cutBeforeFrame = ImageHeader.Read(Write("head.jpg", jpeg[..20]));

        foreach (var info in new[] { cutPng, cutJpeg })
        {
            Assert.False(info.IsUsable);
            Assert.Equal((256, 128), Size(info));
            Assert.Contains(info.Problems, p => p.IsError && p.Message.StartsWith("truncated"));
        }
        Assert.Contains(cutBeforeFrame.Problems, p => p.IsError && p.Message.Contains("truncated JPEG"));
    }

    [Fact]
    public void Png_named_jpg_works_with_a_rename_warning()
    {
        var info = ImageHeader.Read(Write("photo.jpg", TestImages.Png(64, 32)));

        Assert.True(info.IsUsable);
        Assert.Equal(ImageFormat.Png, info.Format);
        var warning = Assert.Single(info.Problems);
        Assert.False(warning.IsError);
        Assert.Contains("rename it to '.png'", warning.Message);
    }

    [Fact]
    public void Header_claiming_30000_by_30000_is_too_large_without_decoding()
    {
        var path = Write("bomb.png", TestImages.PngHeaderOnly(30000, 30000));
        var before = GC.GetTotalAllocatedBytes(precise: true);

        var info = ImageHeader.Read(path);

        Assert.True(GC.GetTotalAllocatedBytes(precise: true) - before < 1_000_000);
        Assert.Equal((30000, 30000), Size(info));
        Assert.False(info.IsUsable);
        Assert.Contains(info.Problems, p => p.IsError && p.Message.Contains("too large"));
    }

    [Fact]
    public void Text_file_with_an_image_extension_is_not_an_image()
    {
        var info = ImageHeader.Read(WriteText("notes.png", "<html>403 Forbidden</html>"));
        Assert.Equal(ImageFormat.Unknown, info.Format);
        Assert.Contains(info.Problems, p => p.IsError && p.Message.Contains("not a PNG, JPEG, WebP or BMP"));
    }

    static (int, int) Size(ImageHeaderInfo info) => (info.Width, info.Height);
}
