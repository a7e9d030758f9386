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

    public static string CaptionPathFor(string imagePath, string captionExtension = ".txt") =>
        Path.ChangeExtension(imagePath, null) + captionExtension;
}
