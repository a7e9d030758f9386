using Microsoft.ML.OnnxRuntime;
using NotebookTrainer.Datasets;
using NotebookTrainer.Tagging.Onnx;

namespace NotebookTrainer.Tagging;

/// <summary>How well a generated tagger reproduces ground-truth tags.</summary>
public sealed record TinyTaggerFit(string ModelDirectory, int TrainImages, int Features, double TrainTagAccuracy, int TrainExactCaptions);

/// <summary>
/// Generates a genuine WD14-signature tagger (<c>model.onnx</c> + <c>selected_tags.csv</c>) that recognises the
/// colours, shapes and backgrounds of <see cref="SampleDataset"/>: float32 BGR input [batch, 64, 64, 3] → sigmoid
/// scores [batch, 4 ratings + 20 general tags].
/// <para>The graph: soft colour masks (distance to 9 colour prototypes via 1×1 convolutions), then per colour its area,
/// its edge energy in four orientations (fixed Sobel kernels) with two size-invariant shape ratios, and a 4×4 layout
/// grid; these are standardised, fed through a fixed random ReLU layer, and a logistic layer fitted in C# on the
/// generated sample images maps features to tags.</para>
/// </summary>
public static class TinyTagger
{
    public const int Side = 64;
    static readonly string[] Ratings = ["general", "sensitive", "questionable", "explicit"];

    // BGR prototypes: the four shape colours, plain backgrounds, and three points along the gradient background.
    static readonly float[][] Prototypes =
    [
        [30, 30, 220], [50, 170, 30], [220, 60, 30], [20, 210, 240],
        [255, 255, 255], [0, 0, 0],
        [70, 40, 40], [145, 120, 130], [220, 200, 200],
    ];
    const float PrototypeRadius = 70f;
    const int GridCells = 4;
    const int HiddenUnits = 192;

    /// <summary>Generates the sample set under <paramref name="workDir"/>, fits the tagger on it and writes it to <paramref name="outDir"/>.</summary>
    public static TinyTaggerFit Build(string outDir, string? workDir = null, int seed = 42, int count = SampleDataset.DefaultCount)
    {
        var temp = workDir ?? Path.Combine(Path.GetTempPath(), $"ntrain-tiny-{Guid.NewGuid():N}");
        try
        {
            var samples = SampleDataset.Generate(temp, seed, count);
            return Fit(samples.Select(s => (s.Path, s.Tags)).ToList(), outDir, seed);
        }
        finally
        {
            if (workDir is null && Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        }
    }

    /// <summary>Fits the tagger on images with ground-truth tags (booru form) and writes it to <paramref name="outDir"/>.</summary>
    public static TinyTaggerFit Fit(IReadOnlyList<(string ImagePath, IReadOnlyList<string> Tags)> samples, string outDir, int seed = 42)
    {
        var tagNames = SampleDataset.AllTags;
        var features = ExtractFeatures(samples.Select(s => s.ImagePath).ToList());
        var n = features.Length;
        var f = features[0].Length;

        var mean = new float[f];
        var scale = new float[f];
        for (var j = 0; j < f; j++)
        {
            double m = 0, v = 0;
            for (var i = 0; i < n; i++) m += features[i][j];
            m /= n;
            for (var i = 0; i < n; i++) v += (features[i][j] - m) * (features[i][j] - m);
            mean[j] = (float)m;
            scale[j] = (float)(1 / Math.Sqrt(v / n + 1e-6));
        }

        var rng = new Random(seed);
        var hiddenW = new float[f * HiddenUnits];
        for (var k = 0; k < hiddenW.Length; k++) hiddenW[k] = (float)(Gaussian(rng) / Math.Sqrt(f));
        var hiddenB = new float[HiddenUnits];
        for (var k = 0; k < HiddenUnits; k++) hiddenB[k] = (float)(0.5 * Gaussian(rng));

        var design = new double[n][];
        for (var i = 0; i < n; i++) design[i] = HeadInput(features[i], mean, scale, hiddenW, hiddenB);
        var d = design[0].Length;

        var outputs = Ratings.Length + tagNames.Count;
        var headW = new float[d * outputs];
        var headB = new float[outputs];
        // Ratings: the sample set is all-ages, so "general" is always likely and the others are not.
        headB[0] = 3f;
        for (var r = 1; r < Ratings.Length; r++) headB[r] = -4f;

        var targets = new double[n];
        for (var t = 0; t < tagNames.Count; t++)
        {
            for (var i = 0; i < n; i++) targets[i] = samples[i].Tags.Contains(tagNames[t]) ? 1 : 0;
            var (w, b) = LogisticRegression(design, targets, l2: 1e-3, iterations: 1500);
            var column = Ratings.Length + t;
            for (var j = 0; j < d; j++) headW[j * outputs + column] = (float)w[j];
            headB[column] = (float)b;
        }

        Directory.CreateDirectory(outDir);
        var graph = new OnnxGraph("tiny_wd14_tagger");
        var featureOutput = AddFeatureNodes(graph);
        var standardised = graph.Add("Mul", [graph.Add("Sub", [featureOutput, graph.Constant("feature_mean", [f], mean)]), graph.Constant("feature_scale", [f], scale)]);
        var hidden = graph.Add("Relu", [graph.Add("Add", [graph.Add("MatMul", [standardised, graph.Constant("hidden_weight", [f, HiddenUnits], hiddenW)]), graph.Constant("hidden_bias", [HiddenUnits], hiddenB)])]);
        var headIn = graph.Add("Concat", [standardised, hidden], new OnnxAttribute.Int("axis", 1));
        var logits = graph.Add("Add", [graph.Add("MatMul", [headIn, graph.Constant("head_weight", [d, outputs], headW)]), graph.Constant("head_bias", [outputs], headB)]);
        graph.Nodes.Add(new OnnxNode("Sigmoid", [logits], ["predictions_sigmoid"], []));
        graph.Outputs.Add(new OnnxValue("predictions_sigmoid", ["batch", (long)outputs]));
        graph.Metadata["description"] = "NotebookTrainer tiny WD14-signature tagger for the generated sample dataset";
        graph.Save(Path.Combine(outDir, WdTaggerModel.ModelFileName));

        var counts = tagNames.Select(t => (long)samples.Count(s => s.Tags.Contains(t))).ToArray();
        var entries = Ratings.Select((r, i) => new TagEntry(i, 9_999_000 + i, r, TagCategory.Rating, samples.Count))
            .Concat(tagNames.Select((t, i) => new TagEntry(Ratings.Length + i, 1000 + i, t, TagCategory.General, counts[i])))
            .ToList();
        new SelectedTags(entries).Save(Path.Combine(outDir, SelectedTags.FileName));

        return Evaluate(outDir, samples, f);
    }

    static TinyTaggerFit Evaluate(string outDir, IReadOnlyList<(string ImagePath, IReadOnlyList<string> Tags)> samples, int featureCount)
    {
        using var model = WdTaggerModel.Load(outDir, preferGpu: false);
        var report = ImageTagger.Tag(model, samples.Select(s => s.ImagePath).ToList(), new TaggerOptions { WriteCaptions = false, RemoveUnderscore = false, PreprocessWorkers = 1 });
        var byPath = report.Results.ToDictionary(r => r.ImagePath);
        int right = 0, total = 0, exact = 0;
        foreach (var (path, truth) in samples)
        {
            var predicted = byPath[Path.GetFullPath(path)].Caption.ToHashSet();
            var allRight = true;
            foreach (var tag in SampleDataset.AllTags)
            {
                var ok = predicted.Contains(tag) == truth.Contains(tag);
                right += ok ? 1 : 0;
                total++;
                allRight &= ok;
            }
            exact += allRight ? 1 : 0;
        }
        return new TinyTaggerFit(Path.GetFullPath(outDir), samples.Count, featureCount, (double)right / total, exact);
    }

    /// <summary>Runs the feature part of the graph with ONNX Runtime, so fitting sees exactly what the final model computes.</summary>
    static float[][] ExtractFeatures(IReadOnlyList<string> images)
    {
        var graph = new OnnxGraph("tiny_tagger_features");
        var output = AddFeatureNodes(graph);
        graph.Outputs.Add(new OnnxValue(output, ["batch", "features"]));
        using var options = new SessionOptions();
        using var session = new InferenceSession(graph.ToBytes(), options);
        using var runOptions = new RunOptions();
        var result = new float[images.Count][];
        var pixels = new float[Side * Side * 3];
        for (var i = 0; i < images.Count; i++)
        {
            WdPreprocessor.Prepare(images[i], Side, pixels);
            using var input = OrtValue.CreateTensorValueFromMemory(pixels, [1, Side, Side, 3]);
            using var outputs = session.Run(runOptions, ["input_1"], [input], [output]);
            result[i] = outputs[0].GetTensorDataAsSpan<float>().ToArray();
        }
        return result;
    }

    /// <summary>Adds input "input_1" [batch, 64, 64, 3] and the feature nodes; returns the [batch, features] output name.</summary>
    static string AddFeatureNodes(OnnxGraph g)
    {
        var k = Prototypes.Length;
        g.Inputs.Add(new OnnxValue("input_1", ["batch", (long)Side, (long)Side, 3L]));
        var nchw = g.Add("Transpose", ["input_1"], new OnnxAttribute.Ints("perm", [0, 3, 1, 2]));

        // mask_k = relu(1 - |x - c_k|^2 / r^2), expanded as (2 c·x - |c|^2 - |x|^2) / r^2 + 1.
        var r2 = PrototypeRadius * PrototypeRadius;
        var linW = new float[k * 3];
        var linB = new float[k];
        for (var p = 0; p < k; p++)
        {
            var c = Prototypes[p];
            for (var ch = 0; ch < 3; ch++) linW[p * 3 + ch] = 2 * c[ch] / r2;
            linB[p] = 1 - (c[0] * c[0] + c[1] * c[1] + c[2] * c[2]) / r2;
        }
        var linear = g.Add("Conv", [nchw, g.Constant("colour_weight", [k, 3, 1, 1], linW), g.Constant("colour_bias", [k], linB)]);
        var squares = g.Add("Conv", [g.Add("Mul", [nchw, nchw]), g.Constant("square_weight", [k, 3, 1, 1], Enumerable.Repeat(1 / r2, k * 3).ToArray())]);
        var masks = g.Add("Relu", [g.Add("Sub", [linear, squares])]);

        var area = g.Add("Flatten", [g.Add("GlobalAveragePool", [masks])], new OnnxAttribute.Int("axis", 1));

        // Depthwise Sobel responses per mask: horizontal, vertical and both diagonals.
        float[][] kernels =
        [
            [-1, 0, 1, -2, 0, 2, -1, 0, 1],
            [-1, -2, -1, 0, 0, 0, 1, 2, 1],
            [-2, -1, 0, -1, 0, 1, 0, 1, 2],
            [0, -1, -2, 1, 0, -1, 2, 1, 0],
        ];
        var edgeW = new float[k * 4 * 9];
        for (var p = 0; p < k; p++)
            for (var o = 0; o < 4; o++)
                for (var t = 0; t < 9; t++) edgeW[(p * 4 + o) * 9 + t] = kernels[o][t] / 8f;
        var edges = g.Add("Conv", [masks, g.Constant("edge_weight", [k * 4, 1, 3, 3], edgeW)],
            new OnnxAttribute.Int("group", k), new OnnxAttribute.Ints("pads", [1, 1, 1, 1]));
        var edgeEnergy = g.Add("Flatten", [g.Add("GlobalAveragePool", [g.Add("Abs", [edges])])], new OnnxAttribute.Int("axis", 1));

        // Size-invariant shape ratios per colour: diagonal/axis edge energy and perimeter^2/area.
        var sumAxisW = new float[k * 4 * k];
        var sumDiagW = new float[k * 4 * k];
        for (var p = 0; p < k; p++)
        {
            sumAxisW[(p * 4 + 0) * k + p] = 1; sumAxisW[(p * 4 + 1) * k + p] = 1;
            sumDiagW[(p * 4 + 2) * k + p] = 1; sumDiagW[(p * 4 + 3) * k + p] = 1;
        }
        var axis = g.Add("MatMul", [edgeEnergy, g.Constant("sum_axis", [k * 4, k], sumAxisW)]);
        var diag = g.Add("MatMul", [edgeEnergy, g.Constant("sum_diag", [k * 4, k], sumDiagW)]);
        var eps = g.Constant("epsilon", [1], [1e-3f]);
        var diagRatio = g.Add("Div", [diag, g.Add("Add", [axis, eps])]);
        var perimeter = g.Add("Add", [axis, diag]);
        var compactness = g.Add("Div", [g.Add("Mul", [perimeter, perimeter]), g.Add("Add", [area, eps])]);

        var cell = Side / GridCells;
        var layout = g.Add("Flatten", [g.Add("AveragePool", [masks], new OnnxAttribute.Ints("kernel_shape", [cell, cell]), new OnnxAttribute.Ints("strides", [cell, cell]))],
            new OnnxAttribute.Int("axis", 1));

        return g.Add("Concat", [area, edgeEnergy, diagRatio, compactness, layout], new OnnxAttribute.Int("axis", 1));
    }

    static double[] HeadInput(float[] features, float[] mean, float[] scale, float[] hiddenW, float[] hiddenB)
    {
        var f = features.Length;
        var x = new double[f + HiddenUnits];
        for (var j = 0; j < f; j++) x[j] = (features[j] - mean[j]) * scale[j];
        for (var h = 0; h < HiddenUnits; h++)
        {
            double s = hiddenB[h];
            for (var j = 0; j < f; j++) s += x[j] * hiddenW[j * HiddenUnits + h];
            x[f + h] = Math.Max(0, s);
        }
        return x;
    }

    /// <summary>L2-regularised logistic regression by full-batch gradient descent with a fixed step (inputs are standardised).</summary>
    static (double[] W, double B) LogisticRegression(double[][] x, double[] y, double l2, int iterations)
    {
        var n = x.Length;
        var d = x[0].Length;
        var w = new double[d];
        double b = 0;
        var grad = new double[d];
        var step = 1.0 / (1 + d / 50.0);
        for (var it = 0; it < iterations; it++)
        {
            Array.Clear(grad);
            double gb = 0;
            for (var i = 0; i < n; i++)
            {
                var z = b;
                var xi = x[i];
                for (var j = 0; j < d; j++) z += w[j] * xi[j];
                var err = 1 / (1 + Math.Exp(-z)) - y[i];
                gb += err;
                for (var j = 0; j < d; j++) grad[j] += err * xi[j];
            }
            for (var j = 0; j < d; j++) w[j] -= step * (grad[j] / n + l2 * w[j]);
            b -= step * gb / n;
        }
        return (w, b);
    }

    static double Gaussian(Random rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
}
