namespace NotebookTrainer.Images;

/// <summary>The image files kohya picks up in a folder (<see cref="ImageExtensions"/> in any case), sorted by path.</summary>
public static class ImageFiles
{
    public static List<string> Enumerate(string dir, bool recursive = false)
    {
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"{dir}: folder not found.");
        var files = Directory.EnumerateFiles(Path.GetFullPath(dir), "*", new EnumerationOptions
            {
                RecurseSubdirectories = recursive,
                AttributesToSkip = FileAttributes.Hidden,
                MatchCasing = MatchCasing.CaseInsensitive,
            })
            .Where(ImageExtensions.IsImage)
            .Where(p => !p.Contains($"{Path.DirectorySeparatorChar}.trash{Path.DirectorySeparatorChar}"))
            .ToList();
        files.Sort(StringComparer.Ordinal);
        return files;
    }

    /// <summary>
    /// <paramref name="dir"/> and each of its subfolders (not hidden ones) that hold images, <paramref name="dir"/> first:
    /// the folders a tagger or a check goes through for a kohya dataset (<c>train/10_sks dog/</c>, …).
    /// </summary>
    public static IReadOnlyList<string> Folders(string dir)
    {
        var folders = Directory.GetDirectories(dir).Order(StringComparer.Ordinal).Prepend(dir)
            .Where(d => !Path.GetFileName(d).StartsWith('.') && Enumerate(d).Count > 0)
            .ToList();
        return folders.Count > 0 ? folders
            : throw new DirectoryNotFoundException($"{Path.GetFullPath(dir)} holds no images ({string.Join(", ", ImageExtensions.All)}), in it or in a subfolder; put the training images there or point to their folder.");
    }

    /// <summary>An image file's bytes: a regular file of at most <see cref="IO.InputLimits.MaxImageBytes"/>, else an <see cref="IO.UntrustedFileException"/>.</summary>
    public static byte[] ReadBytes(string path) =>
        IO.UntrustedFile.ReadAllBytes(path, IO.InputLimits.Current.MaxImageBytes, nameof(IO.InputLimits.MaxImageBytes));

    /// <summary>
    /// A decoder over the image's bytes, refusing what is not a regular file, a file over the size cap, and a header
    /// larger than <see cref="Images.ImageHeader.MaxPixels"/> (before any pixel memory is allocated).
    /// </summary>
    public static SkiaSharp.SKCodec OpenCodec(string path) => OpenCodec(ReadBytes(path), path);

    public static SkiaSharp.SKCodec OpenCodec(byte[] bytes, string path)
    {
        using var data = SkiaSharp.SKData.CreateCopy(bytes);
        var codec = SkiaSharp.SKCodec.Create(data)
            ?? throw new InvalidDataException($"{path}: not a readable image (damaged, or not PNG/JPEG/WebP/BMP).");
        if ((long)codec.Info.Width * codec.Info.Height > Images.ImageHeader.MaxPixels)
        {
            var (w, h) = (codec.Info.Width, codec.Info.Height);
            codec.Dispose();
            throw new InvalidDataException($"{path}: image too large ({w}x{h}, limit {Images.ImageHeader.MaxPixels:N0} pixels); downscale it first.");
        }
        return codec;
    }

    /// <summary>Decodes an image to unpremultiplied RGBA; damaged or unknown files raise an InvalidDataException naming the file.</summary>
    public static SkiaSharp.SKBitmap Decode(string path) => Decode(ReadBytes(path), path);

    public static SkiaSharp.SKBitmap Decode(byte[] bytes, string path)
    {
        using var codec = OpenCodec(bytes, path);
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
