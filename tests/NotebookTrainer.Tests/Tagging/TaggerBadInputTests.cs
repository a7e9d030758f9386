using NotebookTrainer.Progress;
using NotebookTrainer.Tagging;
using NotebookTrainer.Tagging.Onnx;

namespace NotebookTrainer.Tests.Tagging;

[Collection(WorldTaggerCollection.Name)]
public class TaggerBadInputTests(WorldTaggerFixture judge)
{
    string ModelCopy(string name, bool withCsv = true)
    {
        var dir = Path.Combine(judge.Root, name);
        Directory.CreateDirectory(dir);
        File.Copy(Path.Combine(judge.ModelDir, "model.onnx"), Path.Combine(dir, "model.onnx"));
        if (withCsv) File.Copy(Path.Combine(judge.ModelDir, "selected_tags.csv"), Path.Combine(dir, "selected_tags.csv"));
        return dir;
    }

    [Fact]
    public void Model_folder_without_selected_tags_csv()
    {
        var dir = ModelCopy("no-csv", withCsv: false);
        var e = Assert.Throws<TaggerModelException>(() => WdTaggerModel.Load(dir, preferGpu: false));
        Assert.Contains(Path.Combine(dir, "selected_tags.csv"), e.Message);
        Assert.Contains("next to model.onnx", e.Message);
    }

    [Fact]
    public void Tag_count_that_does_not_match_the_model_output()
    {
        var dir = ModelCopy("mismatch");
        var csv = Path.Combine(dir, "selected_tags.csv");
        File.WriteAllLines(csv, File.ReadAllLines(csv)[..^2]);
        var e = Assert.Throws<TaggerModelException>(() => WdTaggerModel.Load(dir, preferGpu: false));
        Assert.Contains("outputs 33 scores", e.Message);
        Assert.Contains("lists 31 tags", e.Message);
    }

    [Fact]
    public void Csv_with_a_bad_row_names_the_line()
    {
        var dir = ModelCopy("bad-row");
        File.AppendAllText(Path.Combine(dir, "selected_tags.csv"), "77,odd_tag,3,1\n");
        var e = Assert.Throws<TaggerModelException>(() => WdTaggerModel.Load(dir, preferGpu: false));
        Assert.Contains("selected_tags.csv:35", e.Message);
        Assert.Contains("category '3'", e.Message);
    }

    [Fact]
    public void Onnx_model_that_is_not_a_tagger()
    {
        var dir = Path.Combine(judge.Root, "not-a-tagger");
        Directory.CreateDirectory(dir);
        var g = new OnnxGraph("classifier");
        g.Inputs.Add(new OnnxValue("features", ["batch", 33L]));
        g.Nodes.Add(new OnnxNode("Sigmoid", ["features"], ["scores"], []));
        g.Outputs.Add(new OnnxValue("scores", ["batch", 33L]));
        g.Save(Path.Combine(dir, "model.onnx"));
        File.Copy(Path.Combine(judge.ModelDir, "selected_tags.csv"), Path.Combine(dir, "selected_tags.csv"));
        var e = Assert.Throws<TaggerModelException>(() => WdTaggerModel.Load(dir, preferGpu: false));
        Assert.Contains("input 'features'", e.Message);
        Assert.Contains("[batch, side, side, 3]", e.Message);
    }

    [Fact]
    public void Truncated_onnx_file()
    {
        var dir = ModelCopy("truncated");
        var path = Path.Combine(dir, "model.onnx");
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        var e = Assert.Throws<TaggerModelException>(() => WdTaggerModel.Load(dir, preferGpu: false));
        Assert.Contains("model.onnx", e.Message);
    }

    [Fact]
    public void Unreadable_images_mid_batch_are_skipped_and_reported()
    {
        var dir = judge.CopyImages("unreadable");
        File.WriteAllText(Path.Combine(dir, "003.png"), "not an image");
        var png = File.ReadAllBytes(Path.Combine(dir, "005.png"));
        File.WriteAllBytes(Path.Combine(dir, "005.png"), png[..40]);
        using var model = WdTaggerModel.Load(judge.ModelDir, preferGpu: false);
        var updates = new List<ProgressUpdate>();
        var report = ImageTagger.TagFolder(model, dir, new TaggerOptions { BatchSize = 4 }, new SyncProgress(updates.Add));

        Assert.Equal(["003.png", "005.png"], report.Skipped.Select(s => Path.GetFileName(s.ImagePath)).Order());
        Assert.All(report.Skipped, s => Assert.Contains(s.ImagePath, s.Reason));
        Assert.Equal(judge.Samples.Count - 2, report.Results.Count);
        Assert.False(File.Exists(Path.Combine(dir, "003.txt")));
        // 004.png sat between the two bad files in its batch; it gets the caption it gets when tagged on its own.
        var alone = ImageTagger.Tag(model, [Path.Combine(dir, "004.png")], new TaggerOptions { WriteCaptions = false });
        Assert.Equal(string.Join(", ", alone.Results.Single().Caption) + "\n", File.ReadAllText(Path.Combine(dir, "004.txt")));
        Assert.Equal(judge.Samples.Count, updates[^1].Done);
        Assert.Contains("003.png", report.ToHtml());
    }

    [Fact]
    public void Cancellation_stops_tagging()
    {
        var dir = judge.CopyImages("cancelled");
        using var model = WdTaggerModel.Load(judge.ModelDir, preferGpu: false);
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => ImageTagger.TagFolder(model, dir, new TaggerOptions(), cancellationToken: cts.Token));
        Assert.Empty(Directory.GetFiles(dir, "*.txt"));
    }
}
