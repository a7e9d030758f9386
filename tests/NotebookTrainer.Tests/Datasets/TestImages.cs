using System.Buffers.Binary;
using SkiaSharp;

namespace NotebookTrainer.Tests.Datasets;

/// <summary>Real encoded images (SkiaSharp) and hand-built headers for formats SkiaSharp does not write.</summary>
static class TestImages
{
    public static byte[] Encode(int width, int height, SKEncodedImageFormat format, int quality = 90)
    {
        using var bitmap = new SKBitmap(width, height);
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(SKColors.CornflowerBlue);
            using var paint = new SKPaint { Color = SKColors.Orange, IsAntialias = true };
            canvas.DrawCircle(width / 2f, height / 2f, Math.Min(width, height) / 3f, paint);
        }
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(format, quality);
        return data.ToArray();
    }

    public static byte[] Png(int width, int height) => Encode(width, height, SKEncodedImageFormat.Png);
    public static byte[] Jpeg(int width, int height) => Encode(width, height, SKEncodedImageFormat.Jpeg);

    /// <summary>A PNG whose IHDR claims the given size, with a tiny IDAT and IEND (a decompression bomb's header).</summary>
    public static byte[] PngHeaderOnly(int width, int height)
    {
        var png = Png(1, 1);
        BinaryPrimitives.WriteInt32BigEndian(png.AsSpan(16), width);
        BinaryPrimitives.WriteInt32BigEndian(png.AsSpan(20), height);
        return png;
    }

    /// <summary>A progressive (SOF2) JPEG skeleton: SOI, APP0, SOF2 with the size, a stub scan, EOI.</summary>
    public static byte[] ProgressiveJpegHeader(int width, int height)
    {
        var bytes = new List<byte> { 0xFF, 0xD8 };
        bytes.AddRange([0xFF, 0xE0, 0x00, 0x10, (byte)'J', (byte)'F', (byte)'I', (byte)'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]);
        bytes.AddRange([0xFF, 0xC2, 0x00, 0x11, 0x08, (byte)(height >> 8), (byte)height, (byte)(width >> 8), (byte)width, 0x03,
            1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
        bytes.AddRange([0xFF, 0xDA, 0x00, 0x0C, 0x03, 1, 0, 2, 0x11, 3, 0x11, 0, 0x3F, 0, 0x12, 0x34, 0xFF, 0x00, 0x56]);
        bytes.AddRange([0xFF, 0xD9]);
        return bytes.ToArray();
    }

    public static byte[] WebPLossless(int width, int height)
    {
        var data = new byte[5 + 8];
        data[0] = 0x2F;
        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(1), (uint)((width - 1) | (height - 1) << 14));
        return Riff("VP8L", data);
    }

    public static byte[] WebPExtended(int width, int height)
    {
        var data = new byte[10];
        data[4] = (byte)(width - 1); data[5] = (byte)((width - 1) >> 8); data[6] = (byte)((width - 1) >> 16);
        data[7] = (byte)(height - 1); data[8] = (byte)((height - 1) >> 8); data[9] = (byte)((height - 1) >> 16);
        return Riff("VP8X", data);
    }

    static byte[] Riff(string chunk, byte[] data)
    {
        var bytes = new byte[20 + data.Length];
        "RIFF"u8.CopyTo(bytes);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), (uint)(bytes.Length - 8));
        "WEBP"u8.CopyTo(bytes.AsSpan(8));
        System.Text.Encoding.ASCII.GetBytes(chunk).CopyTo(bytes, 12);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(16), (uint)data.Length);
        data.CopyTo(bytes, 20);
        return bytes;
    }

    /// <summary>A complete 24-bit BMP (BITMAPINFOHEADER), bottom-up or top-down.</summary>
    public static byte[] Bmp(int width, int height, bool topDown = false)
    {
        var rowBytes = (width * 3 + 3) & ~3;
        var size = 54 + rowBytes * height;
        var bytes = new byte[size];
        bytes[0] = (byte)'B'; bytes[1] = (byte)'M';
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(2), (uint)size);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(10), 54);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(14), 40);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(18), width);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(22), topDown ? -height : height);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(26), 1);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(28), 24);
        return bytes;
    }
}
