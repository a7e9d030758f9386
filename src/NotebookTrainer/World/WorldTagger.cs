using System.Diagnostics;
using NotebookTrainer.Optimizers;
using NotebookTrainer.Progress;
using NotebookTrainer.Tagging;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.World;

/// <summary>How long and on what the judge trains. The defaults take about three minutes on two CPU cores.</summary>
public sealed record WorldTaggerOptions
{
    /// <summary>Scenes rendered once (each seen several times, degraded differently each time).</summary>
    public int TrainImages { get; init; } = 8000;
    public int Steps { get; init; } = 1500;
    public int BatchSize { get; init; } = 64;
    public double LearningRate { get; init; } = 3e-3;
    /// <summary>Fresh scenes (another seed) the written model is tested on through ONNX Runtime.</summary>
    public int TestImages { get; init; } = 1000;
}

/// <summary>What <see cref="WorldTagger.Train"/> wrote and how well it judges images it never saw.</summary>
public sealed record WorldTaggerFit(string ModelDirectory, int Seed, WorldTaggerOptions Options, double FinalLoss,
    TimeSpan RenderTime, TimeSpan TrainTime, long ModelBytes, WorldTaggerAccuracy Test)
{
    public override string ToString() =>
        $"{ModelDirectory}: model.onnx ({ModelBytes / 1024.0:0} KiB) + selected_tags.csv; seed {Seed}, {Options.TrainImages} scenes drawn in {RenderTime.TotalSeconds:0.0} s, " +
        $"{Options.Steps} steps of {Options.BatchSize} in {TrainTime.TotalSeconds:0.0} s, final loss {FinalLoss:0.0000}\n" +
        $"test on fresh scenes: {Test}";
}

/// <summary>
/// The judge of the generated world: a small CNN (<see cref="WorldTaggerNet"/>) trained with TorchSharp on rendered
/// scenes of every shape, colour and background (held-out heart and purple included), written as a WD14-signature
/// tagger (<c>model.onnx</c> + <c>selected_tags.csv</c>) that <see cref="WdTaggerModel"/> and <see cref="ImageTagger"/>
/// run like any downloaded one. It tags samples of the world's diffusion model, so it trains on degraded images:
/// blur, pixel and blotch noise, small colour, brightness and scale jitter.
/// </summary>
public static class WorldTagger
{
    public const int Side = WorldTaggerNet.Side;
    const int Pixels = Side * Side * 3;

    /// <summary>Image sizes the test scenes cycle through: square and non-square, smaller and larger than the model side.</summary>
    public static IReadOnlyList<(int Width, int Height)> TestSizes { get; } =
        [(64, 64), (128, 128), (96, 64), (64, 96), (256, 256), (192, 128), (128, 192), (512, 512), (160, 96), (96, 160)];

    /// <summary>The seed of the test scenes for a run with <paramref name="seed"/>: never the training scenes.</summary>
    public static int TestSeed(int seed) => seed ^ 0x5EED7E57;

    /// <summary>
    /// Draws and renders the training scenes, trains the network, writes <c>model.onnx</c> and <c>selected_tags.csv</c>
    /// into <paramref name="outDir"/> and tests the written model on <see cref="WorldTaggerOptions.TestImages"/> fresh
    /// scenes. The same seed and options give the same model on the same machine.
    /// </summary>
    public static WorldTaggerFit Train(string outDir, int seed = 42, WorldTaggerOptions? options = null,
        IProgress<ProgressUpdate>? progress = null, CancellationToken cancellationToken = default)
    {
        options ??= new WorldTaggerOptions();
        if (options.TrainImages < 1 || options.Steps < 1 || options.BatchSize < 1 || options.TestImages < 1)
            throw new ArgumentException("TrainImages, Steps, BatchSize and TestImages must each be at least 1.", nameof(options));
        outDir = Path.GetFullPath(outDir);

        var clock = Stopwatch.StartNew();
        var (pixels, targets) = RenderTrainingSet(options.TrainImages, seed, progress, cancellationToken);
        var renderTime = clock.Elapsed;

        clock.Restart();
        using var generator = new Generator((ulong)seed);
        using var net = new WorldTaggerNet(generator);
        var loss = Fit(net, pixels, targets, options, seed, generator, progress, cancellationToken);
        var trainTime = clock.Elapsed;

        Directory.CreateDirectory(outDir);
        var graph = net.ToOnnx();
        graph.Metadata["description"] = $"NotebookTrainer world tagger (seed {seed}, {options.TrainImages} scenes, {options.Steps} steps)";
        var modelPath = Path.Combine(outDir, WdTaggerModel.ModelFileName);
        graph.Save(modelPath);
        TagList(targets, options.TrainImages).Save(Path.Combine(outDir, SelectedTags.FileName));

        var test = Evaluate(outDir, options.TestImages, TestSeed(seed), progress, cancellationToken);
        return new WorldTaggerFit(outDir, seed, options, loss, renderTime, trainTime, new FileInfo(modelPath).Length, test);
    }

    /// <summary>
    /// Renders <paramref name="count"/> fresh scenes of every attribute (<see cref="SceneOptions.Everything"/>) in
    /// <see cref="TestSizes"/> as PNG files, tags them with the model in <paramref name="modelDir"/> through
    /// <see cref="ImageTagger"/> with the default <see cref="TaggerOptions"/>, and scores the tags against the scenes.
    /// </summary>
    public static WorldTaggerAccuracy Evaluate(string modelDir, int count, int seed, IProgress<ProgressUpdate>? progress = null,
        CancellationToken cancellationToken = default)
    {
        using var model = WdTaggerModel.Load(modelDir, preferGpu: false);
        var folder = Path.Combine(Path.GetTempPath(), $"ntrain-judge-test-{Guid.NewGuid():N}");
        try
        {
            var images = WorldDataset.Write(folder, SceneOptions.Everything, count, seed, sizes: TestSizes, progress: progress, cancellationToken: cancellationToken);
            var report = ImageTagger.Tag(model, images.Select(i => i.Path).ToList(), new TaggerOptions { WriteCaptions = false }, progress, cancellationToken);
            var tags = report.Results.ToDictionary(r => r.ImagePath, r => r.Caption);
            return WorldTaggerAccuracy.Measure(images.Select(i => (i.Scene, tags[i.Path])));
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>
    /// Training scenes, one or two objects (two more often than in the pretraining world, so colour and shape are
    /// learnt per object), in random sizes and aspect ratios and with the radius jittered by ±10%, each rendered and
    /// then prepared by <see cref="WdPreprocessor"/> exactly as tagging prepares an image file.
    /// </summary>
    static (byte[] Pixels, float[] Targets) RenderTrainingSet(int count, int seed, IProgress<ProgressUpdate>? progress, CancellationToken cancellationToken)
    {
        var random = new Random(seed);
        var sampler = new SceneSampler(SceneOptions.Everything with { TwoObjects = 0.4 }, seed);
        var jobs = new (Scene Scene, int Width, int Height)[count];
        for (var i = 0; i < count; i++)
        {
            var (w, h) = TrainingSize(random);
            var scene = sampler.Next((double)w / h);
            var scale = 0.9f + 0.2f * (float)random.NextDouble();
            jobs[i] = (scene with { Objects = scene.Objects.Select(o => o with { Radius = o.Radius * scale }).ToList() }, w, h);
        }

        var tags = WorldAttributes.Tags;
        var pixels = new byte[count * Pixels];
        var targets = new float[count * tags.Count];
        var tracker = new ProgressTracker("drawing judge scenes", count, progress);
        const int Chunk = 256;
        for (var start = 0; start < count; start += Chunk)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var end = Math.Min(count, start + Chunk);
            Parallel.For(start, end, i =>
            {
                var (scene, w, h) = jobs[i];
                var prepared = new float[Pixels];
                using (var bitmap = SceneRenderer.Render(scene, w, h)) WdPreprocessor.Prepare(bitmap, Side, prepared);
                for (var k = 0; k < Pixels; k++) pixels[i * Pixels + k] = (byte)prepared[k];
                foreach (var tag in scene.Tags) targets[i * tags.Count + IndexOf(tag)] = 1;
            });
            tracker.Advance(end - start);
        }
        return (pixels, targets);
    }

    static int IndexOf(string tag)
    {
        for (var t = 0; t < WorldAttributes.Tags.Count; t++)
            if (WorldAttributes.Tags[t] == tag) return t;
        throw new ArgumentException($"'{tag}' is not a tag of the world.", nameof(tag));
    }

    /// <summary>Long side 64–256 px; 40% square, else width/height between 1/1.8 and 1.8.</summary>
    static (int Width, int Height) TrainingSize(Random random)
    {
        var longSide = 64 + random.Next(193);
        if (random.NextDouble() < 0.4) return (longSide, longSide);
        var aspect = Math.Exp((2 * random.NextDouble() - 1) * Math.Log(1.8));
        var shortSide = (int)Math.Round(longSide / Math.Max(aspect, 1 / aspect));
        return aspect >= 1 ? (longSide, shortSide) : (shortSide, longSide);
    }

    /// <summary>AdamW on binary cross-entropy per tag, cosine schedule with 5% warmup; returns the mean loss of the last 50 steps.</summary>
    static double Fit(WorldTaggerNet net, byte[] pixels, float[] targets, WorldTaggerOptions options, int seed, Generator generator,
        IProgress<ProgressUpdate>? progress, CancellationToken cancellationToken)
    {
        var count = pixels.Length / Pixels;
        var tagCount = WorldAttributes.Tags.Count;
        var batch = options.BatchSize;
        var groups = new[] { new ParameterGroup("world tagger", net.parameters().ToList(), options.LearningRate) };
        using var optimizer = new AdamW(groups, weightDecay: 1e-4);
        var schedule = new LearningRateSchedule("cosine", options.Steps, options.Steps / 20);
        var order = new Random(seed);
        var permutation = Enumerable.Range(0, count).ToArray();
        var position = count;
        var batchPixels = new byte[batch * Pixels];
        var batchTargets = new float[batch * tagCount];
        var recent = new Queue<double>();
        var tracker = new ProgressTracker("training judge", options.Steps, progress);
        net.train();
        for (var step = 0; step < options.Steps; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            for (var b = 0; b < batch; b++)
            {
                if (position == count) { order.Shuffle(permutation); position = 0; }
                var i = permutation[position++];
                pixels.AsSpan(i * Pixels, Pixels).CopyTo(batchPixels.AsSpan(b * Pixels));
                targets.AsSpan(i * tagCount, tagCount).CopyTo(batchTargets.AsSpan(b * tagCount));
            }
            double value;
            using (var scope = NewDisposeScope())
            {
                var images = tensor(batchPixels, [batch, Side, Side, 3]).to(ScalarType.Float32).permute(0, 3, 1, 2).div(255);
                var logits = net.Logits(Degrade(images, generator));
                var loss = nn.functional.binary_cross_entropy_with_logits(logits, tensor(batchTargets, [batch, tagCount]));
                optimizer.ZeroGrad();
                loss.backward();
                schedule.Apply(groups, step);
                optimizer.Step();
                value = loss.item<float>();
            }
            recent.Enqueue(value);
            if (recent.Count > 50) recent.Dequeue();
            tracker.Advance(1, $"loss {recent.Average():0.0000}");
        }
        net.eval();
        return recent.Average();
    }

    /// <summary>
    /// What a small diffusion model's samples look like next to clean renders, drawn per image: a horizontal flip
    /// (every shape is mirror-symmetric), colour gain ±10% and offset ±0.04 per channel, Gaussian blur of σ up to
    /// about 1.4 px, pixel noise up to σ 0.06 and smooth blotches up to σ 0.04. Each effect is off for 30% of images.
    /// </summary>
    static Tensor Degrade(Tensor images, Generator generator)
    {
        var n = images.shape[0];
        Tensor Uniform(long channels) => rand([n, channels, 1, 1], generator: generator);
        Tensor On() => Uniform(1).lt(0.7).to(ScalarType.Float32);
        Tensor Amount() => Uniform(1).mul(On());

        var x = where(Uniform(1).lt(0.5), images.flip(3), images);
        var colour = On();
        x = x.mul(Uniform(3).sub(0.5).mul(0.2).mul(colour).add(1)).add(Uniform(3).sub(0.5).mul(0.08).mul(colour));

        using var kernel = GaussianKernel(1.0);
        var blurred = Blur(x, kernel);
        var blurredTwice = Blur(blurred, kernel);
        var blur = Amount().mul(2);
        x = where(blur.lt(1), x.lerp(blurred, blur.clamp(0, 1)), blurred.lerp(blurredTwice, blur.sub(1).clamp(0, 1)));

        x = x.add(randn([n, 3, Side, Side], generator: generator).mul(Amount().mul(0.06)));
        var blotches = nn.functional.interpolate(randn([n, 3, 8, 8], generator: generator), size: [Side, Side], mode: InterpolationMode.Bilinear, align_corners: false);
        x = x.add(blotches.mul(Amount().mul(0.04)));
        return x.clamp(0, 1);
    }

    static Tensor Blur(Tensor x, Tensor kernel) =>
        nn.functional.conv2d(nn.functional.pad(x, [2, 2, 2, 2], PaddingModes.Replicate), kernel, groups: 3);

    /// <summary>A 5×5 Gaussian of standard deviation <paramref name="sigma"/> for each of the 3 channels: [3, 1, 5, 5].</summary>
    static Tensor GaussianKernel(double sigma)
    {
        var taps = Enumerable.Range(-2, 5).Select(d => Math.Exp(-d * d / (2 * sigma * sigma))).ToArray();
        var sum = taps.Sum();
        var kernel = new float[3 * 25];
        for (var c = 0; c < 3; c++)
            for (var y = 0; y < 5; y++)
                for (var x = 0; x < 5; x++) kernel[c * 25 + y * 5 + x] = (float)(taps[y] * taps[x] / (sum * sum));
        return tensor(kernel, [3, 1, 5, 5]);
    }

    /// <summary>WD14 layout: the four ratings, then the world's tags as general tags, with their counts in the training set.</summary>
    static SelectedTags TagList(float[] targets, int images)
    {
        var tags = WorldAttributes.Tags;
        var entries = WorldTaggerNet.Ratings.Select((r, i) => new TagEntry(i, 9_999_000 + i, r, TagCategory.Rating, images)).ToList();
        for (var t = 0; t < tags.Count; t++)
        {
            long count = 0;
            for (var i = 0; i < images; i++) count += targets[i * tags.Count + t] > 0 ? 1 : 0;
            entries.Add(new TagEntry(entries.Count, 1000 + t, tags[t], TagCategory.General, count));
        }
        return new SelectedTags(entries);
    }
}
