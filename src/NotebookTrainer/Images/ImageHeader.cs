using System.Buffers.Binary;
using NotebookTrainer.Configuration;
using NotebookTrainer.Datasets;

namespace NotebookTrainer.Images;

public enum ImageFormat { Unknown, Png, Jpeg, WebP, Bmp }

/// <summary>What the header of an image file says, plus anything wrong with the file. Width/Height are 0 when unreadable.</summary>
public sealed record ImageHeaderInfo(string Path, ImageFormat Format, int Width, int Height, long FileLength, IReadOnlyList<DatasetProblem> Problems)
{
    /// <summary>The image can be trained on (warnings such as a wrong extension allowed).</summary>
    public bool IsUsable => Format != ImageFormat.Unknown && Width > 0 && Height > 0 && !Problems.Any(p => p.IsError);
}

/// <summary>
/// Reads width, height and format of PNG, JPEG, WebP and BMP files from their headers without decoding pixels,
/// and finds the file problems that make kohya (PIL) fail mid-training: empty or truncated files, content that is
/// not an image, absurd sizes.
/// </summary>
public static class ImageHeader
{
    /// <summary>PIL refuses images above twice its MAX_IMAGE_PIXELS (89,478,485) as decompression bombs.</summary>
    public const long MaxPixels = 2L * 89_478_485;
    /// <summary>PIL warns above this many pixels.</summary>
    public const long LargePixels = 89_478_485;

    public static ImageHeaderInfo Read(string path)
    {
        var problems = new List<DatasetProblem>();
        long length;
        ImageFormat format;
        long width = 0, height = 0;   // as the header says: a PNG's are unsigned 32-bit, a BMP's height is signed
        try
        {
            using var stream = IO.UntrustedFile.OpenRead(path, IO.InputLimits.Current.MaxImageBytes, nameof(IO.InputLimits.MaxImageBytes));
            length = stream.Length;
            if (length == 0)
            {
                problems.Add(DatasetProblem.Error(path, "empty file (0 bytes); re-download or delete it."));
                return new ImageHeaderInfo(path, ImageFormat.Unknown, 0, 0, 0, problems);
            }
            Span<byte> head = stackalloc byte[32];
            var n = ReadAtMost(stream, head);
            head = head[..n];
            format = Sniff(head);
            string? truncated = null;
            switch (format)
            {
                case ImageFormat.Png: truncated = ReadPng(stream, head, out width, out height); break;
                case ImageFormat.Jpeg: truncated = ReadJpeg(stream, out width, out height); break;
                case ImageFormat.WebP: truncated = ReadWebP(stream, head, out width, out height); break;
                case ImageFormat.Bmp: truncated = ReadBmp(head, length, out width, out height); break;
                default:
                    problems.Add(DatasetProblem.Error(path, $"not a PNG, JPEG, WebP or BMP image (starts with {Convert.ToHexString(head[..Math.Min(8, head.Length)])}); delete it or convert it to PNG."));
                    return new ImageHeaderInfo(path, format, 0, 0, length, problems);
            }
            if (truncated != null)
                problems.Add(DatasetProblem.Error(path, $"truncated {format.ToString().ToUpperInvariant()} file ({truncated}, {length} bytes); re-download or re-save it."));
        }
        catch (IO.UntrustedFileException e)
        {
            problems.Add(DatasetProblem.Error(path, e.Reason));
            return new ImageHeaderInfo(path, ImageFormat.Unknown, 0, 0, 0, problems);
        }
        catch (IOException e)
        {
            problems.Add(DatasetProblem.Error(path, $"cannot read the file: {e.Message}"));
            return new ImageHeaderInfo(path, ImageFormat.Unknown, 0, 0, 0, problems);
        }
        catch (UnauthorizedAccessException e)
        {
            problems.Add(DatasetProblem.Error(path, $"cannot read the file: {e.Message}; check its permissions."));
            return new ImageHeaderInfo(path, ImageFormat.Unknown, 0, 0, 0, problems);
        }

        var tooLarge = width > MaxPixels || height > MaxPixels || width * height > MaxPixels;
        var pixels = tooLarge ? (decimal)width * height : width * height;
        if (width > 0 && height > 0 && tooLarge)
            problems.Add(DatasetProblem.Error(path, $"image too large: the header says {width}x{height} ({pixels:N0} pixels, limit {MaxPixels:N0}); downscale it before training."));
        else if (pixels > LargePixels)
            problems.Add(DatasetProblem.Warning(path, $"very large image {width}x{height}; loading it is slow and memory hungry, consider downscaling."));
        else if (problems.Count == 0 && (width <= 0 || height <= 0))
            problems.Add(DatasetProblem.Error(path, $"the header gives an invalid size {width}x{height}; re-save the image."));

        var expected = FormatForExtension(System.IO.Path.GetExtension(path));
        if (expected != ImageFormat.Unknown && expected != format)
            problems.Add(DatasetProblem.Warning(path, $"{format.ToString().ToUpperInvariant()} content in a '{System.IO.Path.GetExtension(path)}' file; it loads, but rename it to '{ExtensionFor(format)}'."));
        return new ImageHeaderInfo(path, format, (int)Math.Clamp(width, 0, int.MaxValue), (int)Math.Clamp(height, 0, int.MaxValue), length, problems);
    }

    public static ImageFormat FormatForExtension(string extension) => extension.ToLowerInvariant() switch
    {
        ".png" => ImageFormat.Png,
        ".jpg" or ".jpeg" => ImageFormat.Jpeg,
        ".webp" => ImageFormat.WebP,
        ".bmp" => ImageFormat.Bmp,
        _ => ImageFormat.Unknown,
    };

    static string ExtensionFor(ImageFormat format) => format switch
    {
        ImageFormat.Png => ".png",
        ImageFormat.Jpeg => ".jpg",
        ImageFormat.WebP => ".webp",
        ImageFormat.Bmp => ".bmp",
        _ => "",
    };

    static ImageFormat Sniff(ReadOnlySpan<byte> head)
    {
        if (head.Length >= 8 && head[..8].SequenceEqual((ReadOnlySpan<byte>)[0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])) return ImageFormat.Png;
        if (head.Length >= 3 && head[0] == 0xFF && head[1] == 0xD8 && head[2] == 0xFF) return ImageFormat.Jpeg;
        if (head.Length >= 12 && head[..4].SequenceEqual("RIFF"u8) && head[8..12].SequenceEqual("WEBP"u8)) return ImageFormat.WebP;
        if (head.Length >= 2 && head[0] == (byte)'B' && head[1] == (byte)'M') return ImageFormat.Bmp;
        return ImageFormat.Unknown;
    }

    static int ReadAtMost(Stream stream, Span<byte> buffer)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var n = stream.Read(buffer[total..]);
            if (n == 0) break;
            total += n;
        }
        return total;
    }

    // Each reader returns null when the file is complete, else a short description of where it ends.

    static string? ReadPng(Stream stream, ReadOnlySpan<byte> head, out long width, out long height)
    {
        width = height = 0;
        if (head.Length < 24 || !head[12..16].SequenceEqual("IHDR"u8)) return "ends before the IHDR header";
        width = BinaryPrimitives.ReadUInt32BigEndian(head[16..]);
        height = BinaryPrimitives.ReadUInt32BigEndian(head[20..]);
        // A complete PNG ends with the 12-byte IEND chunk.
        if (stream.Length < 8 + 25 + 12) return "no IEND chunk";
        Span<byte> tail = stackalloc byte[12];
        stream.Seek(-12, SeekOrigin.End);
        ReadAtMost(stream, tail);
        return tail[4..8].SequenceEqual("IEND"u8) ? null : "no IEND chunk at the end";
    }

    static string? ReadJpeg(Stream stream, out long width, out long height)
    {
        width = height = 0;
        stream.Seek(2, SeekOrigin.Begin);
        Span<byte> marker = stackalloc byte[9];
        var foundFrame = false;
        while (true)
        {
            int b;
            do b = stream.ReadByte(); while (b == 0xFF);
            if (b < 0) return foundFrame ? "no end-of-image marker" : "ends before the frame header (SOF)";
            var code = b;
            if (code == 0xD8 || code is >= 0xD0 and <= 0xD7 || code == 0x01) continue; // markers without a length
            if (code == 0xD9) return foundFrame ? null : "end-of-image before any frame header";
            if (ReadAtMost(stream, marker[..2]) < 2) return "cut inside a segment header";
            var segmentLength = BinaryPrimitives.ReadUInt16BigEndian(marker);
            if (segmentLength < 2) return "corrupt segment length";
            // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC): baseline, progressive, lossless, arithmetic.
            if (code is >= 0xC0 and <= 0xCF && code != 0xC4 && code != 0xC8 && code != 0xCC)
            {
                if (ReadAtMost(stream, marker[..5]) < 5) return "cut inside the frame header";
                height = BinaryPrimitives.ReadUInt16BigEndian(marker[1..]);
                width = BinaryPrimitives.ReadUInt16BigEndian(marker[3..]);
                foundFrame = true;
                // The scan data runs to the end; a complete file ends with FFD9 (some writers append padding after it).
                return EndsWithEoi(stream) ? null : "no end-of-image marker (FFD9)";
            }
            if (stream.Position + segmentLength - 2 > stream.Length) return "cut inside a segment";
            stream.Seek(segmentLength - 2, SeekOrigin.Current);
        }
    }

    /// <summary>
    /// FF D9 cannot occur inside entropy-coded data (FF is stuffed as FF 00), so finding it in the last KiB means the
    /// scan is complete; writers sometimes pad after it.
    /// </summary>
    static bool EndsWithEoi(Stream stream)
    {
        var tail = new byte[(int)Math.Min(stream.Length, 1024)];
        stream.Seek(-tail.Length, SeekOrigin.End);
        ReadAtMost(stream, tail);
        return tail.AsSpan().IndexOf((ReadOnlySpan<byte>)[0xFF, 0xD9]) >= 0;
    }

    static string? ReadWebP(Stream stream, ReadOnlySpan<byte> head, out long width, out long height)
    {
        width = height = 0;
        if (head.Length < 30) return "ends before the bitstream header";
        var riffSize = BinaryPrimitives.ReadUInt32LittleEndian(head[4..]);
        var chunk = head[12..16];
        var data = head[20..];
        if (chunk.SequenceEqual("VP8 "u8))
        {
            if (data[3] != 0x9D || data[4] != 0x01 || data[5] != 0x2A) return "bad VP8 start code";
            width = BinaryPrimitives.ReadUInt16LittleEndian(data[6..]) & 0x3FFF;
            height = BinaryPrimitives.ReadUInt16LittleEndian(data[8..]) & 0x3FFF;
        }
        else if (chunk.SequenceEqual("VP8L"u8))
        {
            if (data[0] != 0x2F) return "bad VP8L signature";
            var bits = BinaryPrimitives.ReadUInt32LittleEndian(data[1..]);
            width = (int)(bits & 0x3FFF) + 1;
            height = (int)((bits >> 14) & 0x3FFF) + 1;
        }
        else if (chunk.SequenceEqual("VP8X"u8))
        {
            width = 1 + (data[4] | data[5] << 8 | data[6] << 16);
            height = 1 + (data[7] | data[8] << 8 | data[9] << 16);
        }
        else return $"unknown WebP chunk '{System.Text.Encoding.ASCII.GetString(chunk)}'";
        return riffSize + 8L > stream.Length ? $"RIFF header says {riffSize + 8L} bytes" : null;
    }

    static string? ReadBmp(ReadOnlySpan<byte> head, long length, out long width, out long height)
    {
        width = height = 0;
        if (head.Length < 26) return "ends before the DIB header";
        var fileSize = BinaryPrimitives.ReadUInt32LittleEndian(head[2..]);
        var dibSize = BinaryPrimitives.ReadUInt32LittleEndian(head[14..]);
        if (dibSize == 12)
        {
            width = BinaryPrimitives.ReadUInt16LittleEndian(head[18..]);
            height = BinaryPrimitives.ReadUInt16LittleEndian(head[20..]);
        }
        else
        {
            width = BinaryPrimitives.ReadInt32LittleEndian(head[18..]);
            height = Math.Abs((long)BinaryPrimitives.ReadInt32LittleEndian(head[22..])); // negative height = top-down rows
        }
        return fileSize > length ? $"header says {fileSize} bytes" : null;
    }
}
