using System.Diagnostics;
using NotebookTrainer.Datasets;
using NotebookTrainer.Tagging;

namespace NotebookTrainer.Tests.Tagging;

public class TinyTaggerTests(TinyTaggerFixture tiny) : IClassFixture<TinyTaggerFixture>
{
    [Fact]
    public void Tags_every_sample_image_exactly_like_its_ground_truth()
    {
        Assert.Equal(1.0, tiny.Fit.TrainTagAccuracy);
        Assert.Equal(tiny.Samples.Count, tiny.Fit.TrainExactCaptions);

        var dir = tiny.CopyImages("exact");
        using var model = WdTaggerModel.Load(tiny.ModelDir, preferGpu: false);
        var report = ImageTagger.TagFolder(model, dir, new TaggerOptions());
        Assert.Empty(report.Skipped);
        foreach (var s in tiny.Samples)
        {
            var caption = File.ReadAllText(Path.Combine(dir, Path.GetFileNameWithoutExtension(s.Path) + ".txt")).TrimEnd('\n');
            var expected = s.Tags.Select(t => t.Replace('_', ' ')).Order(StringComparer.Ordinal);
            Assert.Equal(expected, caption.Split(", ").Order(StringComparer.Ordinal));
        }
    }

    [Fact]
    public void Written_model_has_the_wd14_signature()
    {
        using var model = WdTaggerModel.Load(tiny.ModelDir, preferGpu: false);
        Assert.Equal(TinyTagger.Side, model.InputSide);
        Assert.Equal("input_1", model.InputName);
        Assert.Null(model.FixedBatchSize);
        Assert.Equal(4 + SampleDataset.AllTags.Count, model.Tags.Count);
        Assert.Equal(TagCategory.Rating, model.Tags.Entries[3].Category);
        Assert.Equal("red_circle", model.Tags.Entries[4].Name);
    }

    [Fact]
    public void Onnx_checker_accepts_the_written_model()
    {
        var psi = new ProcessStartInfo("/usr/bin/python3")
        {
            ArgumentList = { "-c", "import onnx,sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True); print('ok')", Path.Combine(tiny.ModelDir, "model.onnx") },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEnd();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"onnx.checker failed: {stderr}");
        Assert.Equal("ok", stdout.Trim());
    }

    [Fact]
    public void Recognises_most_tags_on_images_it_was_not_fitted_on()
    {
        var heldOut = SampleDataset.Generate(Path.Combine(tiny.Root, "heldout"), seed: 7, count: 48);
        using var model = WdTaggerModel.Load(tiny.ModelDir, preferGpu: false);
        var report = ImageTagger.Tag(model, heldOut.Select(s => s.Path).ToList(), new TaggerOptions { WriteCaptions = false, RemoveUnderscore = false });
        var byPath = report.Results.ToDictionary(r => r.ImagePath);
        int right = 0, total = 0;
        foreach (var s in heldOut)
        {
            var predicted = byPath[s.Path].Caption.ToHashSet();
            foreach (var tag in SampleDataset.AllTags)
            {
                right += predicted.Contains(tag) == s.Tags.Contains(tag) ? 1 : 0;
                total++;
            }
        }
        var accuracy = (double)right / total;
        // A constant "no tags" answer scores about 0.85 here; the fitted model must do clearly better.
        Assert.True(accuracy > 0.9, $"held-out per-tag accuracy {accuracy:P1}");
    }
}
