using NotebookTrainer.Datasets;
using NotebookTrainer.Tagging;

namespace NotebookTrainer.Tests.Tagging;

/// <summary>Builds the tiny tagger once for the tests that need a real model, on the default sample set.</summary>
public sealed class TinyTaggerFixture : IDisposable
{
    public string Root { get; } = Path.Combine(Path.GetTempPath(), $"nt-tiny-{Guid.NewGuid():N}");
    public string ModelDir => Path.Combine(Root, "model");
    public string SampleRoot => Path.Combine(Root, "data");
    public IReadOnlyList<SampleImage> Samples { get; }
    public TinyTaggerFit Fit { get; }

    public TinyTaggerFixture()
    {
        Samples = SampleDataset.Generate(SampleRoot);
        Fit = TinyTagger.Fit(Samples.Select(s => (s.Path, s.Tags)).ToList(), ModelDir);
    }

    /// <summary>A fresh copy of the sample images (no captions) in a new folder.</summary>
    public string CopyImages(string name)
    {
        var dir = Path.Combine(Root, name);
        Directory.CreateDirectory(dir);
        foreach (var s in Samples) File.Copy(s.Path, Path.Combine(dir, Path.GetFileName(s.Path)));
        return dir;
    }

    public void Dispose()
    {
        if (Directory.Exists(Root)) Directory.Delete(Root, recursive: true);
    }
}
