namespace NotebookTrainer.Tests.Datasets;

/// <summary>A fresh folder under /tmp per test class, deleted afterwards.</summary>
public abstract class TempDir : IDisposable
{
    protected readonly string Root = Path.Combine(Path.GetTempPath(), "nt-ds-" + Guid.NewGuid().ToString("N"));

    protected TempDir() => Directory.CreateDirectory(Root);

    public void Dispose()
    {
        if (Directory.Exists(Root)) Directory.Delete(Root, recursive: true);
        GC.SuppressFinalize(this);
    }

    protected string Write(string relative, byte[] bytes)
    {
        var path = Path.Combine(Root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    protected string WriteText(string relative, string text) => Write(relative, System.Text.Encoding.UTF8.GetBytes(text));
}
