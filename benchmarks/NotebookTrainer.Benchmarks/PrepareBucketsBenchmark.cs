using System.Diagnostics;
using System.Globalization;
using NotebookTrainer.Datasets;
using NotebookTrainer.Datasets.FineTune;
using NotebookTrainer.Models;
using NotebookTrainer.ModelConfigs;
using NotebookTrainer.Models.Vae;
using NotebookTrainer.World;
using static TorchSharp.torch;

namespace NotebookTrainer.Benchmarks;

/// <summary>
/// <c>ntrain metadata prepare-buckets</c> with an SD1.5-config VAE (random weights: the cost is the same) on the sample
/// dataset: seconds per image (latents and flipped latents), peak RSS, and how fast training reads the .npz back.
/// Usage: prepare-buckets [--images 8] [--resolution 512] [--batch 1].
/// </summary>
public static class PrepareBucketsBenchmark
{
    public static void Run(string[] args)
    {
        int Option(string name, int fallback) => Array.IndexOf(args, name) is var i and >= 0 ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
        var count = Option("--images", 8);
        var resolution = Option("--resolution", 512);
        var batch = Option("--batch", 1);
        var root = Path.Combine(Path.GetTempPath(), "nt-bench-prepare-" + Guid.NewGuid().ToString("N"));
        try
        {
            var images = SampleDataset.Generate(root, seed: 1, count: count);
            var folder = Path.GetDirectoryName(images[0].Path)!;
            var meta = Path.Combine(root, "meta.json");
            MetadataMerge.Tags(new MetadataMergeOptions { TrainDataDir = folder, OutJson = meta });
            manual_seed(0);
            using var vae = new AutoencoderKL(new AutoencoderKLConfig());
            vae.eval();
            ProcessMemory.ResetPeak();
            var baseline = ProcessMemory.PeakResidentBytes() ?? 0;
            var options = new PrepareBucketsOptions
            {
                TrainDataDir = folder, InJson = meta, OutJson = meta, MaxResolution = (resolution, resolution),
                MaxBucketReso = Math.Max(1024, 2 * resolution), FlipAug = true, BatchSize = batch,
            };
            var clock = Stopwatch.StartNew();
            var report = BucketLatents.Prepare(options, vae);
            var seconds = clock.Elapsed.TotalSeconds;
            var peak = ProcessMemory.PeakResidentBytes() ?? 0;
            Console.WriteLine($"prepare-buckets: {report.Encoded} images at {resolution} px (+ flipped), batch {batch}, {report.Buckets.Count} buckets: " +
                $"{seconds / report.Encoded:0.00} s/image, peak RSS {peak / 1e9:0.00} GB (+{(peak - baseline) / 1e9:0.00} GB over the loaded VAE)");

            clock.Restart();
            foreach (var image in report.Images)
                for (var flip = 0; flip < 2; flip++)
                    LatentsNpz.ReadLatents(image.NpzPath, flip == 1).Dispose();
            var read = clock.Elapsed.TotalSeconds;
            var bytes = report.Images.Sum(i => new FileInfo(i.NpzPath).Length);
            Console.WriteLine($"npz read back: {2 * report.Images.Count / read:0} latents/s ({bytes / 1e6:0.0} MB of .npz)");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
