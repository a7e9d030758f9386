namespace NotebookTrainer.Tests.Build;

/// <summary>
/// The library's folders form layers (ARCHITECTURE.md): a folder uses only folders of lower layers, so there are no
/// cycles and each concept can be read, tested and replaced from the bottom up.
/// </summary>
public sealed class DependencyRuleTests
{
    /// <summary>The layers, lowest first; the same table is in ARCHITECTURE.md.</summary>
    public static readonly string[][] Layers =
    [
        ["IO", "Progress", "Optimizers"],
        ["Display", "SafeTensors", "Npz", "Tokenizers", "Downloads", "Configuration", "ModelConfigs"],
        ["Runtime", "Images", "Checkpoints", "Captions"],
        ["Models"],
        ["Diffusion", "Networks", "Embeddings", "Tagging"],
        ["World"],
        ["Datasets", "Curation", "Sampling"],
        ["Training"],
        ["Analysis", "Acquisition", "Catalog"],
        ["Pretraining"],
    ];

    static int LayerOf(string folder) =>
        Array.FindIndex(Layers, layer => layer.Contains(folder)) is var i and >= 0 ? i
            : throw new Xunit.Sdk.XunitException($"src/NotebookTrainer/{folder} is in no layer of DependencyRuleTests.Layers; add it there and to ARCHITECTURE.md.");

    [Fact]
    public void Every_folder_uses_only_folders_of_lower_layers()
    {
        var dependencies = LibraryDependencies.Of(typeof(NotebookTrainer.IO.AtomicFile).Assembly);
        var broken = dependencies
            .SelectMany(from => from.Value.Select(to => (From: from.Key, To: to.Key, Example: to.Value)))
            .Where(e => LayerOf(e.To) >= LayerOf(e.From))
            .OrderBy(e => e.From, StringComparer.Ordinal).ThenBy(e => e.To, StringComparer.Ordinal)
            .Select(e => $"{e.From} → {e.To} (layer {LayerOf(e.From)} → {LayerOf(e.To)}), e.g. {e.Example}")
            .ToList();
        Assert.True(broken.Count == 0, "folders that use a folder of their own or a higher layer:\n" + string.Join("\n", broken));
    }

    [Fact]
    public void The_scan_sees_uses_inside_method_bodies_and_lambdas()
    {
        var dependencies = LibraryDependencies.Of(typeof(NotebookTrainer.IO.AtomicFile).Assembly);
        // Trainer writes its configs with AtomicFile only inside method bodies; LiveTrainingView builds a chart in a method.
        Assert.Contains("IO", dependencies["Training"].Keys);
        Assert.Contains("Display", dependencies["Training"].Keys);
        Assert.DoesNotContain("Training", dependencies["IO"].Keys);
    }
}
