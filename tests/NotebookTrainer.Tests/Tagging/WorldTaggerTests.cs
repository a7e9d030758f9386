using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using NotebookTrainer.Progress;
using NotebookTrainer.Tagging;
using NotebookTrainer.World;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace NotebookTrainer.Tests.Tagging;

[Collection(WorldTaggerCollection.Name)]
public class WorldTaggerTests(WorldTaggerFixture judge, ITestOutputHelper output)
{
    [Fact]
    public void Small_judge_tells_colour_shape_background_and_count_apart_on_fresh_scenes()
    {
        var test = judge.Fit.Test;
        output.WriteLine(judge.Fit.ToString());
        Assert.Equal(WorldTaggerFixture.Options.TestImages, test.Images);
        // A constant answer scores about 20% on colour and shape, 33% on background, 75% on object count; the full
        // judge (benchmark "world-tagger") reaches 95% on each.
        Assert.True(test[WorldTaggerAccuracy.Background].Accuracy >= 0.95, test.ToString());
        Assert.True(test[WorldTaggerAccuracy.Colour].Accuracy >= 0.7, test.ToString());
        Assert.True(test[WorldTaggerAccuracy.Shape].Accuracy >= 0.6, test.ToString());
        Assert.True(test[WorldTaggerAccuracy.ObjectCount].Accuracy >= 0.85, test.ToString());
        Assert.True(test.Value(WorldTaggerAccuracy.Colour, WorldAttributes.HeldOutColour).Accuracy >= 0.6, test.ToString());
        Assert.True(test.Value(WorldTaggerAccuracy.Shape, WorldAttributes.HeldOutShape).Accuracy >= 0.5, test.ToString());
        Assert.True(test.Value(WorldTaggerAccuracy.Colour, WorldAttributes.HeldOutColour).Precision >= 0.9, test.ToString());
    }

    [Fact]
    public void Tags_the_sample_set_of_purple_hearts_in_every_size()
    {
        var dir = judge.CopyImages("samples");
        using var model = WdTaggerModel.Load(judge.ModelDir, preferGpu: false);
        var report = ImageTagger.TagFolder(model, dir, new TaggerOptions());
        Assert.Empty(report.Skipped);
        var accuracy = WorldTaggerAccuracy.Measure(judge.Samples.Select(s =>
        {
            var caption = File.ReadAllText(Path.Combine(dir, Path.GetFileNameWithoutExtension(s.Path) + ".txt"));
            return (SceneOf(s.Tags), (IReadOnlyList<string>)caption.TrimEnd('\n').Split(", "));
        }));
        output.WriteLine(accuracy.ToString());
        Assert.True(accuracy[WorldTaggerAccuracy.Background].Accuracy >= 0.9, accuracy.ToString());
        Assert.True(accuracy.Value(WorldTaggerAccuracy.Colour, "purple").Recall >= 0.6, accuracy.ToString());
    }

    /// <summary>A scene with the objects and background that ground-truth tags name (placement does not matter to scoring).</summary>
    static Scene SceneOf(IReadOnlyList<string> tags)
    {
        var parsed = tags.Select(WorldAttributes.Parse).ToList();
        var objects = parsed.Where(p => p.Shape is not null).Select(p => new SceneObject(p.Shape!, p.Colour!, 0.5f, 0.5f, 0.2f)).ToList();
        if (tags.Contains(WorldAttributes.TwoShapesTag) && objects.Count == 1) objects.Add(objects[0]);
        return new Scene(parsed.Single(p => p.Background is not null).Background!, objects);
    }

    [Fact]
    public void Written_model_has_the_wd14_signature()
    {
        using var model = WdTaggerModel.Load(judge.ModelDir, preferGpu: false);
        Assert.Equal(WorldTagger.Side, model.InputSide);
        Assert.Equal("input_1", model.InputName);
        Assert.Null(model.FixedBatchSize);
        Assert.Equal(4 + WorldAttributes.Tags.Count, model.Tags.Count);
        Assert.Equal(TagCategory.Rating, model.Tags.Entries[3].Category);
        Assert.Equal(WorldAttributes.Tags, model.Tags.Entries.Skip(4).Select(e => e.Name));
        Assert.All(model.Tags.Entries.Skip(4), e => Assert.Equal(TagCategory.General, e.Category));
        Assert.Equal(judge.Fit.ModelBytes, new FileInfo(Path.Combine(judge.ModelDir, "model.onnx")).Length);
    }

    [Fact]
    public void Onnx_checker_accepts_the_written_model()
    {
        var psi = new ProcessStartInfo("/usr/bin/python3")
        {
            ArgumentList = { "-c", "import onnx,sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True); print('ok')", Path.Combine(judge.ModelDir, "model.onnx") },
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
    public void Progress_reports_drawing_training_and_testing_with_rate()
    {
        var tasks = judge.Updates.Select(u => u.Task).Distinct().ToList();
        Assert.Equal(["drawing judge scenes", "training judge", "drawing images", "tagging"], tasks);
        var last = judge.Updates.Last(u => u.Task == "training judge");
        Assert.Equal(WorldTaggerFixture.Options.Steps, last.Done);
        Assert.Equal(last.Total, last.Done);
        Assert.StartsWith("loss ", last.Detail);
        Assert.Contains(judge.Updates, u => u.Task == "training judge" && u.RatePerSecond > 0 && u.Eta is not null);
    }

    [Fact]
    public void Onnx_graph_computes_what_the_torch_network_computes()
    {
        using var generator = new Generator(11);
        using var net = new WorldTaggerNet(generator);
        using var _ = no_grad();
        // Non-trivial batch-norm statistics and affine parameters, so the folding into the convs is exercised.
        net.train();
        for (var i = 0; i < 3; i++) net.forward(rand([8, 64, 64, 3], generator: generator).mul(255)).Dispose();
        foreach (var norm in net.norms)
        {
            norm.weight!.uniform_(0.5, 1.5, generator);
            norm.bias!.uniform_(-0.2, 0.2, generator);
        }
        net.eval();

        var input = new float[5 * 64 * 64 * 3];
        var sampler = new SceneSampler(SceneOptions.Everything, 3);
        for (var i = 0; i < 4; i++)
        {
            using var bitmap = SceneRenderer.Render(sampler.Next(1.5), 96, 64);
            WdPreprocessor.Prepare(bitmap, 64, input.AsSpan(i * 64 * 64 * 3, 64 * 64 * 3));
        }
        var random = new Random(5);
        for (var k = 4 * 64 * 64 * 3; k < input.Length; k++) input[k] = random.Next(256);

        using var expected = net.forward(tensor(input, [5, 64, 64, 3]));
        using var options = new SessionOptions();
        using var session = new InferenceSession(net.ToOnnx().ToBytes(), options);
        using var value = OrtValue.CreateTensorValueFromMemory(input, [5, 64, 64, 3]);
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, ["input_1"], [value], ["predictions_sigmoid"]);
        var actual = outputs[0].GetTensorDataAsSpan<float>().ToArray();
        var torchValues = expected.data<float>().ToArray();
        Assert.Equal(5 * WorldTaggerNet.OutputCount, actual.Length);
        Assert.Equal(torchValues.Length, actual.Length);
        for (var k = 0; k < actual.Length; k++) Assert.True(Math.Abs(actual[k] - torchValues[k]) < 1e-4, $"output {k}: onnx {actual[k]}, torch {torchValues[k]}");
        // The scores are spread out, so agreeing on them says something.
        Assert.True(torchValues.Max() - torchValues.Min() > 0.5);
    }

    [Fact]
    public void Training_is_deterministic_for_a_seed_and_stops_when_cancelled()
    {
        var root = Path.Combine(judge.Root, "determinism");
        var options = new WorldTaggerOptions { TrainImages = 96, Steps = 6, BatchSize = 16, TestImages = 8 };
        var a = WorldTagger.Train(Path.Combine(root, "a"), 3, options);
        var b = WorldTagger.Train(Path.Combine(root, "b"), 3, options);
        var c = WorldTagger.Train(Path.Combine(root, "c"), 4, options);
        byte[] Model(WorldTaggerFit fit) => File.ReadAllBytes(Path.Combine(fit.ModelDirectory, "model.onnx"));
        Assert.Equal(Model(a), Model(b));
        Assert.Equal(a.FinalLoss, b.FinalLoss);
        Assert.NotEqual(Model(a), Model(c));

        using var cts = new CancellationTokenSource();
        var cancelled = Path.Combine(root, "cancelled");
        var progress = new SyncProgress(u => { if (u.Task == "training judge") cts.Cancel(); });
        Assert.ThrowsAny<OperationCanceledException>(() => WorldTagger.Train(cancelled, 3, options, progress, cts.Token));
        Assert.False(File.Exists(Path.Combine(cancelled, "model.onnx")));
    }

    [Fact]
    public void Bad_options_are_refused_before_any_work()
    {
        var e = Assert.Throws<ArgumentException>(() => WorldTagger.Train(Path.Combine(judge.Root, "bad"), 1, new WorldTaggerOptions { Steps = 0 }));
        Assert.Contains("Steps", e.Message);
        Assert.False(Directory.Exists(Path.Combine(judge.Root, "bad")));
    }
}
