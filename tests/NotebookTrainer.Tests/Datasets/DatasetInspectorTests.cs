using System.Text.Json;
using NotebookTrainer.Datasets;
using NotebookTrainer.Display;
using NotebookTrainer.World;

namespace NotebookTrainer.Tests.Datasets;

public sealed class DatasetInspectorTests : TempDir
{
    [Fact]
    public void Sample_dataset_folder_inspects_cleanly_with_kohya_log_lines_and_json()
    {
        SampleDataset.Generate(Root);

        var report = DatasetInspector.Inspect(Root);

        Assert.Equal("folders", report.Kind);
        Assert.Equal(0, report.ErrorCount);
        Assert.Equal(0, report.WarningCount);
        Assert.Equal(SampleDataset.DefaultCount * SampleDataset.Repeats, report.Plan!.NumTrainImages);
        Assert.Equal(report.Plan.NumTrainImages, report.Plan.BatchesPerEpoch);
        Assert.Contains(report.LogLines, l => l.StartsWith("bucket 0: resolution ("));
        Assert.Contains(report.LogLines, l => l.StartsWith("mean ar error (without repeats): "));

        using var json = JsonDocument.Parse(report.ToJson());
        var root = json.RootElement;
        Assert.Equal(DatasetReport.SchemaId, root.GetProperty("schema").GetString());
        Assert.Equal(320, root.GetProperty("totals").GetProperty("steps_per_epoch").GetInt32());
        var first = root.GetProperty("images")[0];
        Assert.Equal(512, first.GetProperty("width").GetInt32());
        Assert.StartsWith("sks, purple heart", first.GetProperty("caption").GetString());
        Assert.Equal(2, first.GetProperty("bucket").GetArrayLength());
        Assert.Equal(report.Plan.Buckets.Sum(b => b.Count), root.GetProperty("buckets").EnumerateArray().Sum(b => b.GetProperty("count").GetInt32()));
    }

    [Fact]
    public void Broken_config_gives_a_report_with_the_problems_and_no_plan()
    {
        var path = Path.Combine(Root, "bad.toml");
        File.WriteAllText(path, "[[datasets]]\nresolution = 512\n[[datasets.subsets]]\nimage_dri = '/x'\n");

        var report = DatasetInspector.Inspect(path);

        Assert.Null(report.Plan);
        Assert.False(report.CanTrain);
        Assert.Contains(report.Problems, p => p.Line == 4 && p.Message.Contains("Did you mean 'image_dir'?"));
        using var json = JsonDocument.Parse(report.ToJson());
        Assert.Equal(4, json.RootElement.GetProperty("problems")[0].GetProperty("line").GetInt32());
    }

    [Fact]
    public void Html_escapes_file_names_and_captions_and_histogram_has_one_bar_per_bucket()
    {
        var dir = Path.Combine(Root, "1_x");
        Directory.CreateDirectory(dir);
        File.WriteAllBytes(Path.Combine(dir, "<script>.png"), TestImages.Png(512, 512));
        File.WriteAllText(Path.Combine(dir, "<script>.txt"), "<b>bold</b>, tag");
        File.WriteAllBytes(Path.Combine(dir, "wide.png"), TestImages.Png(1024, 512));

        var report = DatasetInspector.Inspect(Root);
        var html = report.ToHtml();

        Assert.DoesNotContain("<script>", html);
        Assert.DoesNotContain("<b>bold", html);
        Assert.Contains("&lt;b&gt;bold&lt;/b&gt;", html);
        var chart = report.BucketHistogram();
        var bars = Assert.IsType<BarTrace>(Assert.Single(chart.Traces));
        Assert.Equal(["512x512", "704x320"], bars.Categories.Order());
        Assert.Equal(("bucket (width x height)", "images × repeats"), (chart.XAxisTitle, chart.YAxisTitle));
    }

    [Fact]
    public void Folder_with_images_directly_is_read_as_one_subset_with_a_warning()
    {
        File.WriteAllBytes(Path.Combine(Root, "a.png"), TestImages.Png(512, 512));
        File.WriteAllText(Path.Combine(Root, "a.txt"), "tag");

        var report = DatasetInspector.Inspect(Root);

        Assert.Equal("folder", report.Kind);
        Assert.Equal(1, report.Plan!.NumTrainImages);
        Assert.Contains(report.Problems, p => !p.IsError && p.Message.Contains("<repeats>_<class tokens>"));
    }
}
