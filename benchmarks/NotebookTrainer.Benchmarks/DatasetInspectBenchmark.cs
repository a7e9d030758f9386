using System.Diagnostics;
using NotebookTrainer.Datasets;
using SkiaSharp;

namespace NotebookTrainer.Benchmarks;

/// <summary>
/// Times <c>ntrain dataset inspect</c> on a folder of many small real PNGs with captions (kohya layout), against
/// just reading every file's bytes. Usage: dataset-inspect [count] (default 10000).
/// Target: well above 1,000 images/s on a 2-core machine, so a 10k-image dataset inspects in seconds.
/// </summary>
public static class DatasetInspectBenchmark
{
    public static int Run(string[] args)
    {
        var count = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 10_000;
        var root = Path.Combine(Path.GetTempPath(), "nt-bench-inspect-" + Guid.NewGuid().ToString("N"));
        var folder = Path.Combine(root, "1_bench");
        Directory.CreateDirectory(folder);
        try
        {
            var clock = Stopwatch.StartNew();
            Generate(folder, count);
            Console.WriteLine($"generated {count:N0} PNGs + captions in {clock.Elapsed.TotalSeconds:0.00} s");

            clock.Restart();
            long bytes = 0;
            foreach (var file in Directory.EnumerateFiles(folder)) bytes += File.ReadAllBytes(file).Length;
            var readAll = clock.Elapsed.TotalSeconds;
            Console.WriteLine($"baseline: read all {bytes / 1e6:0.0} MB of files in {readAll:0.000} s");

            // One warm-up pass (JIT), then the measured passes.
            DatasetInspector.Inspect(root);
            var times = new List<double>();
            DatasetReport? report = null;
            for (var i = 0; i < 3; i++)
            {
                clock.Restart();
                report = DatasetInspector.Inspect(root);
                times.Add(clock.Elapsed.TotalSeconds);
            }
            var best = times.Min();
            clock.Restart();
            var json = report!.ToJson();
            var jsonSeconds = clock.Elapsed.TotalSeconds;

            Console.WriteLine($"inspect: {count:N0} images, {report.Plan!.Buckets.Count} buckets, {report.ErrorCount} errors; best of 3 {best:0.000} s (runs {string.Join(", ", times.Select(t => t.ToString("0.000")))})");
            Console.WriteLine($"inspect: {count / best:N0} images/s; {best / readAll:0.0}x the time of reading the bytes");
            Console.WriteLine($"json: {json.Length / 1e6:0.0} MB in {jsonSeconds:0.000} s");
            return report.ErrorCount == 0 ? 0 : 1;
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>Tiny real PNGs of varied aspect ratios (32–160 px a side) so the images spread over many buckets.</summary>
    static void Generate(string folder, int count)
    {
        var random = new Random(1);
        var sizes = Enumerable.Range(0, 64).Select(_ => (W: random.Next(32, 161), H: random.Next(32, 161))).ToArray();
        var encoded = sizes.Select(s => Png(s.W, s.H)).ToArray();
        Parallel.For(0, count, i =>
        {
            var stem = Path.Combine(folder, i.ToString("00000"));
            File.WriteAllBytes(stem + ".png", encoded[i % encoded.Length]);
            File.WriteAllText(stem + ".txt", $"sks, shape {i % 97}, colour {i % 13}");
        });
    }

    static byte[] Png(int width, int height)
    {
        using var bitmap = new SKBitmap(width, height);
        bitmap.Erase(new SKColor((byte)width, (byte)height, 128));
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }
}
