using NotebookTrainer.Captions;
using NotebookTrainer.Curation;
using NotebookTrainer.Datasets;
using NotebookTrainer.Runner;
using NotebookTrainer.World;

namespace NotebookTrainer.Tests.Tagging;

public sealed class TaggingNotebookTests : IDisposable
{
    readonly string root = Path.Combine(Path.GetTempPath(), $"nt-nb03-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
    }

    [Fact]
    public async Task Notebook_03_tags_curates_and_stops_its_pruning_page_when_headless()
    {
        var notebook = Path.Combine(Tests.Runner.RunnerWorkspace.RepositoryRoot, "notebooks", "03-tagging-and-curation.ipynb");
        var dataDir = Path.Combine(root, "data");
        var output = Path.Combine(root, "out");
        var log = new StringWriter();
        var result = NotebookRunner.Run(new RunnerOptions([notebook], output, null, new Dictionary<string, string>
        {
            ["dataDir"] = dataDir,
            ["removeTags"] = "two shapes",
        }), log);
        Assert.True(result.ExitCode == 0, log.ToString());

        var images = Path.Combine(dataDir, SampleDataset.FolderName);
        foreach (var caption in Directory.GetFiles(images, "*.txt"))
        {
            var tags = CaptionText.Parse(File.ReadAllText(caption));
            Assert.Equal("sks", tags[0]);
            Assert.DoesNotContain("two shapes", tags);
        }
        var executed = File.ReadAllText(Path.Combine(output, "03-tagging-and-curation.ipynb"));
        Assert.Contains("http://127.0.0.1:", executed);
        Assert.Contains("the pruning page was stopped", executed);

        // The page released the folder, and the journal holds the notebook's two edits.
        using var session = CurationSession.Open(images);
        Assert.Equal(["remove 'two shapes'", "activation tag 'sks' first"], session.Journal.AppliedEdits.Select(e => e.Description));
    }
}
