using NotebookTrainer.Progress;
using NotebookTrainer.Tagging;
using NotebookTrainer.Tagging.Onnx;

namespace NotebookTrainer.Tests.Tagging;

public class TaggerBadInputTests(TinyTaggerFixture tiny) : IClassFixture<TinyTaggerFixture>
{
    string ModelCopy(string name, bool withCsv = true)
    {
        var dir = Path.Combine(tiny.Root, name);
        Directory.CreateDirectory(dir);
        File.Copy(Path.Combine(tiny.ModelDir, "model.onnx"), Path.Combine(dir, "model.onnx"));
        if (withCsv) File.Copy(Path.Combine(tiny.ModelDir, "selected_tags.csv"), Path.Combine(dir, "selected_tags.csv"));
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
        Assert.Contains("outputs 24 scores", e.Message);
        Assert.Contains("lists 22 tags", e.Message);
    }

    [Fact]
    public void Csv_with_a_bad_row_names_the_line()
    {
        var dir = ModelCopy("bad-row");
        File.AppendAllText(Path.Combine(dir, "selected_tags.csv"), "77,odd_tag,3,1\n");
        var e = Assert.Throws<TaggerModelException>(() => WdTaggerModel.Load(dir, preferGpu: false));
        Assert.Contains("selected_tags.csv:26", e.Message);
        Assert.Contains("category '3'", e.Message);
    }

    [Fact]
    public void Onnx_model_that_is_not_a_tagger()
    {
        var dir = Path.Combine(tiny.Root, "not-a-tagger");
        Directory.CreateDirectory(dir);
        var g = new OnnxGraph("classifier");
        g.Inputs.Add(new OnnxValue("features", ["batch", 24L]));
        g.Nodes.Add(new OnnxNode("Sigmoid", ["features"], ["scores"], []));
        g.Outputs.Add(new OnnxValue("scores", ["batch", 24L]));
        g.Save(Path.Combine(dir, "model.onnx"));
        File.Copy(Path.Combine(tiny.ModelDir, "selected_tags.csv"), Path.Combine(dir, "selected_tags.csv"));
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
        var dir = tiny.CopyImages("unreadable");
        File.WriteAllText(Path.Combine(dir, "003.png"), "not an image");
        var png = File.ReadAllBytes(Path.Combine(dir, "005.png"));
        File.WriteAllBytes(Path.Combine(dir, "005.png"), png[..40]);
        using var model = WdTaggerModel.Load(tiny.ModelDir, preferGpu: false);
        var updates = new List<ProgressUpdate>();
        var report = ImageTagger.TagFolder(model, dir, new TaggerOptions { BatchSize = 4 }, new SyncProgress(updates.Add));

        Assert.Equal(["003.png", "005.png"], report.Skipped.Select(s => Path.GetFileName(s.ImagePath)).Order());
        Assert.All(report.Skipped, s => Assert.Contains(s.ImagePath, s.Reason));
        Assert.Equal(tiny.Samples.Count - 2, report.Results.Count);
        Assert.False(File.Exists(Path.Combine(dir, "003.txt")));
        Assert.Equal(tiny.Samples[4].Tags.Select(t => t.Replace('_', ' ')).Order(), File.ReadAllText(Path.Combine(dir, "004.txt")).TrimEnd().Split(", ").Order());
        Assert.Equal(tiny.Samples.Count, updates[^1].Done);
        Assert.Contains("003.png", report.ToHtml());
    }

    [Fact]
    public void Cancellation_stops_tagging()
    {
        var dir = tiny.CopyImages("cancelled");
        using var model = WdTaggerModel.Load(tiny.ModelDir, preferGpu: false);
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => ImageTagger.TagFolder(model, dir, new TaggerOptions(), cancellationToken: cts.Token));
        Assert.Empty(Directory.GetFiles(dir, "*.txt"));
    }

    sealed class SyncProgress(Action<ProgressUpdate> report) : IProgress<ProgressUpdate>
    {
        public void Report(ProgressUpdate value) => report(value);
    }
}
