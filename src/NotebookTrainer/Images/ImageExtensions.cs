namespace NotebookTrainer.Images;

/// <summary>
/// The image file extensions kohya trains on (train_util's IMAGE_EXTENSIONS without its optional AVIF and JPEG XL
/// plugins): the one list datasets, curation, fine-tune metadata and acquisition read.
/// </summary>
public static class ImageExtensions
{
    /// <summary>Lower case.</summary>
    public static IReadOnlyList<string> All { get; } = [".png", ".jpg", ".jpeg", ".webp", ".bmp"];

    /// <summary>The path ends in one of <see cref="All"/>, in any case.</summary>
    public static bool IsImage(string path) => All.Contains(Path.GetExtension(path), StringComparer.OrdinalIgnoreCase);
}
