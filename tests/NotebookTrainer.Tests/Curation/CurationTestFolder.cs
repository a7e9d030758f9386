namespace NotebookTrainer.Tests.Curation;

/// <summary>A temporary folder of tiny PNG images with the given captions (null = no caption file).</summary>
sealed class CurationTestFolder : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"nt-cur-{Guid.NewGuid():N}");

    public CurationTestFolder(params (string Name, string? Caption)[] images)
    {
        Directory.CreateDirectory(Path);
        foreach (var (name, caption) in images)
        {
            using (var bitmap = new SkiaSharp.SKBitmap(8, 8))
            {
                bitmap.Erase(new SkiaSharp.SKColor((byte)name.Length, 100, 200));
                using var data = bitmap.Encode(SkiaSharp.SKEncodedImageFormat.Png, 100);
                File.WriteAllBytes(System.IO.Path.Combine(Path, name + ".png"), data.ToArray());
            }
            if (caption is not null) File.WriteAllText(Caption(name), caption);
        }
    }

    public string Caption(string name) => System.IO.Path.Combine(Path, name + ".txt");
    public string Read(string name) => File.ReadAllText(Caption(name));

    public void Dispose()
    {
        if (Directory.Exists(Path)) Directory.Delete(Path, recursive: true);
    }
}
