namespace NotebookTrainer.Curation;

/// <summary>The image files kohya picks up in a folder: .png .jpg .jpeg .webp .bmp in any case, sorted by path.</summary>
public static class ImageFiles
{
    public static readonly IReadOnlySet<string> Extensions = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { ".png", ".jpg", ".jpeg", ".webp", ".bmp" };

    public static bool IsImage(string path) => Extensions.Contains(Path.GetExtension(path));

    public static List<string> Enumerate(string dir, bool recursive = false)
    {
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"{dir}: folder not found.");
        var files = Directory.EnumerateFiles(Path.GetFullPath(dir), "*", new EnumerationOptions
            {
                RecurseSubdirectories = recursive,
                AttributesToSkip = FileAttributes.Hidden,
                MatchCasing = MatchCasing.CaseInsensitive,
            })
            .Where(IsImage)
            .Where(p => !p.Contains($"{Path.DirectorySeparatorChar}.trash{Path.DirectorySeparatorChar}"))
            .ToList();
        files.Sort(StringComparer.Ordinal);
        return files;
    }

    /// <summary>Decodes an image to unpremultiplied RGBA; damaged or unknown files raise an InvalidDataException naming the file.</summary>
    public static SkiaSharp.SKBitmap Decode(string path) => Decode(File.ReadAllBytes(path), path);

    public static SkiaSharp.SKBitmap Decode(byte[] bytes, string path)
    {
        using var data = SkiaSharp.SKData.CreateCopy(bytes);
        using var codec = SkiaSharp.SKCodec.Create(data)
            ?? throw new InvalidDataException($"{path}: not a readable image (damaged, or not PNG/JPEG/WebP/BMP).");
        var info = new SkiaSharp.SKImageInfo(codec.Info.Width, codec.Info.Height, SkiaSharp.SKColorType.Rgba8888, SkiaSharp.SKAlphaType.Unpremul);
        if (info.Width <= 0 || info.Height <= 0) throw new InvalidDataException($"{path}: image has no pixels ({info.Width}x{info.Height}).");
        var bitmap = new SkiaSharp.SKBitmap(info);
        var result = codec.GetPixels(info, bitmap.GetPixels());
        if (result is not SkiaSharp.SKCodecResult.Success)
        {
            bitmap.Dispose();
            throw new InvalidDataException($"{path}: image data is damaged ({result}); re-download or remove the file.");
        }
        return bitmap;
    }

    public static string CaptionPathFor(string imagePath, string captionExtension = ".txt") =>
        Path.ChangeExtension(imagePath, null) + captionExtension;
}
