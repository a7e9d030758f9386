using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using NotebookTrainer.Datasets;
using NotebookTrainer.Tagging;
using NotebookTrainer.Tagging.Onnx;
using NotebookTrainer.World;

namespace NotebookTrainer.Benchmarks;

/// <summary>
/// Tagging throughput of <see cref="ImageTagger"/> (decode + preprocess on worker tasks, batched session runs, captions)
/// against bare <c>InferenceSession.Run</c> over the same batches prepared in advance. Target: the pipeline adds under
/// 10% to the bare session time, i.e. decoding stays hidden behind inference.
/// <para>With side 448 the model is a WD14-signature convolution stack with random weights standing in for a real
/// tagger's cost: by default about 60 GMAC per image, what a ConvNeXt-Base at 448 (wd-v1-4-convnext-tagger-v2) costs;
/// <c>--gmac 0.74</c> gives the bare four-layer stack. With side 64 it is the world judge's network (briefly trained:
/// only its cost matters here).</para>
/// </summary>
public static class TaggingBenchmark
{
    public static int Run(string[] args)
    {
        var images = IntOption(args, "--images", 32);
        var side = IntOption(args, "--side", 448);
        var batch = IntOption(args, "--batch", 8);
        var root = Path.Combine(Path.GetTempPath(), $"nt-bench-tagging-{Guid.NewGuid():N}");
        try
        {
            var samples = SampleDataset.Generate(Path.Combine(root, "data"), seed: 1, count: images);
            var modelDir = Path.Combine(root, "model");
            if (side == WorldTagger.Side) WorldTagger.Train(modelDir, 1, new WorldTaggerOptions { TrainImages = 64, Steps = 1, TestImages = 8 });
            else WriteConvTagger(modelDir, side, tags: 4 + SampleDataset.AllTags.Count, gmac: DoubleOption(args, "--gmac", 60));

            using var model = WdTaggerModel.Load(modelDir, preferGpu: true);
            var paths = samples.Select(s => s.Path).ToList();
            Console.WriteLine($"tagging benchmark: {paths.Count} images (128..1024 px PNG), model side {model.InputSide}" +
                              (side == WorldTagger.Side ? " (world judge)" : $" (stand-in, {DoubleOption(args, "--gmac", 60):0.##} GMAC/image)") +
                              $", batch {batch}, {model.ExecutionProvider}, {Environment.ProcessorCount} cores");

            // Warm-up: one batch through both paths so graph optimisation and JIT are not timed.
            var warm = PrepareBatches(paths.Take(batch).ToList(), model.InputSide, batch);
            model.Run(warm[0].Data, warm[0].Count);
            ImageTagger.Tag(model, paths.Take(batch).ToList(), new TaggerOptions { WriteCaptions = false, BatchSize = batch });

            var batches = PrepareBatches(paths, model.InputSide, batch);
            var bare = Time(() => { foreach (var b in batches) model.Run(b.Data, b.Count); });
            var prepare = Time(() => PrepareBatches(paths, model.InputSide, batch));
            var pipeline = Time(() => ImageTagger.Tag(model, paths, new TaggerOptions { WriteCaptions = false, BatchSize = batch }));

            Console.WriteLine($"  bare InferenceSession.Run on prepared batches: {bare,8:0.000} s  {paths.Count / bare,8:0.0} images/s");
            Console.WriteLine($"  decode + preprocess alone (serial):            {prepare,8:0.000} s  {paths.Count / prepare,8:0.0} images/s");
            Console.WriteLine($"  ImageTagger end to end:                        {pipeline,8:0.000} s  {paths.Count / pipeline,8:0.0} images/s");
            Console.WriteLine($"  pipeline / bare = {pipeline / bare:0.000}  (overhead {(pipeline / bare - 1) * 100:+0.0;-0.0}%, target < +10%)");
            Console.WriteLine($"  pipeline / (bare + serial decode) = {pipeline / (bare + prepare):0.000}  (below 1 means decoding overlaps inference)");
            return 0;
        }
        finally
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }

    sealed record Batch(float[] Data, int Count);

    static List<Batch> PrepareBatches(IReadOnlyList<string> paths, int side, int batch)
    {
        var floats = side * side * 3;
        var batches = new List<Batch>();
        for (var start = 0; start < paths.Count; start += batch)
        {
            var count = Math.Min(batch, paths.Count - start);
            var data = new float[batch * floats];
            for (var k = 0; k < count; k++) WdPreprocessor.Prepare(paths[start + k], side, data.AsSpan(k * floats, floats));
            batches.Add(new Batch(data, count));
        }
        return batches;
    }

    static double Time(Action action)
    {
        var clock = Stopwatch.StartNew();
        action();
        return clock.Elapsed.TotalSeconds;
    }

    /// <summary>
    /// A WD14-signature model: four stride-2 3×3 convolutions (0.74 GMAC at 448), then as many residual 3×3
    /// convolutions at the third stage as reach <paramref name="gmac"/> per image (they share one weight, so the file
    /// stays small), pooling and a linear head.
    /// </summary>
    static void WriteConvTagger(string dir, int side, int tags, double gmac)
    {
        Directory.CreateDirectory(dir);
        var rng = new Random(3);
        float[] Random(int n, double scale) => Enumerable.Range(0, n).Select(_ => (float)((rng.NextDouble() * 2 - 1) * scale)).ToArray();
        var g = new OnnxGraph("benchmark_conv_tagger");
        g.Inputs.Add(new OnnxValue("input", ["batch", (long)side, (long)side, 3L]));
        var x = g.Add("Mul", [g.Add("Transpose", ["input"], new OnnxAttribute.Ints("perm", [0, 3, 1, 2])), g.Constant("scale", [1], [1 / 255f])]);
        int[] channels = [3, 32, 64, 128, 256];
        for (var i = 1; i < channels.Length; i++)
        {
            var w = g.Constant($"conv{i}_weight", [channels[i], channels[i - 1], 3, 3], Random(channels[i] * channels[i - 1] * 9, 1 / Math.Sqrt(channels[i - 1] * 9)));
            var b = g.Constant($"conv{i}_bias", [channels[i]], new float[channels[i]]);
            x = g.Add("Relu", [g.Add("Conv", [x, w, b], new OnnxAttribute.Ints("strides", [2, 2]), new OnnxAttribute.Ints("pads", [1, 1, 1, 1]))]);
            if (i == 3) x = AddBody(g, x, channels[i], side / 8, gmac - StemGmac(side, channels), Random);
        }
        x = g.Add("Flatten", [g.Add("GlobalAveragePool", [x])], new OnnxAttribute.Int("axis", 1));
        var logits = g.Add("MatMul", [x, g.Constant("head_weight", [256, tags], Random(256 * tags, 0.1))]);
        g.Nodes.Add(new OnnxNode("Sigmoid", [logits], ["output"], []));
        g.Outputs.Add(new OnnxValue("output", ["batch", (long)tags]));
        g.Save(Path.Combine(dir, WdTaggerModel.ModelFileName));
        var entries = new[] { "general", "sensitive", "questionable", "explicit" }.Select((r, i) => new TagEntry(i, i, r, TagCategory.Rating, 0))
            .Concat(SampleDataset.AllTags.Select((t, i) => new TagEntry(4 + i, 100 + i, t, TagCategory.General, 0)));
        new SelectedTags(entries.ToList()).Save(Path.Combine(dir, SelectedTags.FileName));
    }

    static double StemGmac(int side, int[] channels)
    {
        double macs = 0;
        for (var i = 1; i < channels.Length; i++)
        {
            var outSide = side >> i;
            macs += (double)outSide * outSide * channels[i] * channels[i - 1] * 9;
        }
        return macs / 1e9;
    }

    /// <summary>x ← x + 0.05·relu(conv(x)), repeated; the small residual step keeps activations far from overflow and denormals.</summary>
    static string AddBody(OnnxGraph g, string x, int channels, int side, double gmac, Func<int, double, float[]> random)
    {
        var perLayer = (double)side * side * channels * channels * 9 / 1e9;
        var layers = (int)Math.Max(0, Math.Round(gmac / perLayer));
        if (layers == 0) return x;
        var w = g.Constant("body_weight", [channels, channels, 3, 3], random(channels * channels * 9, Math.Sqrt(6.0 / (channels * 9))));
        var b = g.Constant("body_bias", [channels], new float[channels]);
        var step = g.Constant("body_step", [1], [0.05f]);
        for (var k = 0; k < layers; k++)
        {
            var y = g.Add("Relu", [g.Add("Conv", [x, w, b], new OnnxAttribute.Ints("pads", [1, 1, 1, 1]))]);
            x = g.Add("Add", [x, g.Add("Mul", [y, step])]);
        }
        return x;
    }

    static double DoubleOption(string[] args, string name, double fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length && double.TryParse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : fallback;
    }

    static int IntOption(string[] args, string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], out var v) ? v : fallback;
    }
}
