using NotebookTrainer.Datasets;
using NotebookTrainer.Progress;
using NotebookTrainer.Tagging;
using NotebookTrainer.World;

namespace NotebookTrainer.Tests.Tagging;

[CollectionDefinition(Name)]
public sealed class WorldTaggerCollection : ICollectionFixture<WorldTaggerFixture>
{
    public const string Name = "world tagger";
}

/// <summary>
/// Trains one small world judge for every test that needs a real tagger (about a minute on two cores), and draws the
/// sample set. The full judge's ≥95% target is measured by the world-tagger benchmark, not here.
/// </summary>
public sealed class WorldTaggerFixture : IDisposable
{
    public const int Seed = 7;
    // Half the default batch: with few steps, more updates of smaller batches learn more for the same CPU time.
    public static readonly WorldTaggerOptions Options = new() { TrainImages = 2000, Steps = 800, BatchSize = 32, TestImages = 300 };

    public string Root { get; } = Path.Combine(Path.GetTempPath(), $"nt-judge-{Guid.NewGuid():N}");
    public string ModelDir => Path.Combine(Root, "model");
    public string SampleRoot => Path.Combine(Root, "data");
    public IReadOnlyList<SampleImage> Samples { get; }
    public WorldTaggerFit Fit { get; }
    public IReadOnlyList<ProgressUpdate> Updates { get; }

    public WorldTaggerFixture()
    {
        Samples = SampleDataset.Generate(SampleRoot);
        var updates = new List<ProgressUpdate>();
        Fit = WorldTagger.Train(ModelDir, Seed, Options, new SyncProgress(updates.Add));
        Updates = updates;
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

/// <summary>Reports on the calling thread, so a test sees every update before the call returns.</summary>
sealed class SyncProgress(Action<ProgressUpdate> report) : IProgress<ProgressUpdate>
{
    public void Report(ProgressUpdate value) => report(value);
}
