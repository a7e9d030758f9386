using System.Globalization;
using NotebookTrainer.Pretraining;
using NotebookTrainer.World;

namespace NotebookTrainer.Benchmarks;

/// <summary>
/// Every phase of <c>ntrain pretrain</c> at a fraction of its size: seconds per phase and the training phases'
/// throughput (VAE crops/s, U-Net samples/s), from which the full run's time follows.
/// </summary>
static class PretrainingBenchmark
{
    public static void Run(string[] args)
    {
        var root = args.Length > 0 ? args[0] : Path.Combine(Path.GetTempPath(), $"ntrain-pretrain-bench-{Guid.NewGuid():N}");
        var full = new PretrainingOptions { OutputDir = root };
        var options = full with
        {
            VaeImages = 1024, VaeSteps = 60, UnetImages = 1024, UnetSteps = 60, TestImages = 64, EvaluationSeeds = 1,
        };
        Console.WriteLine($"CPU: {Cpu()}; {Environment.ProcessorCount} cores; output {root}");
        try
        {
            var results = new WorldPretraining(options).Run();
            foreach (var r in results)
            {
                var rate = r.Name switch
                {
                    "vae" => $"{options.VaeSteps * options.VaeBatchSize / r.Seconds:0.0} crops/s",
                    "unet" => $"{options.UnetSteps * options.UnetBatchSize / r.Seconds:0.0} samples/s (latent caching included)",
                    _ => "",
                };
                Console.WriteLine($"{r.Name,-9} {r.Seconds,8:0.0} s  {rate}");
            }
            var vae = results.Single(r => r.Name == "vae").Seconds * full.VaeSteps / options.VaeSteps;
            var unet = results.Single(r => r.Name == "unet").Seconds * full.UnetSteps / options.UnetSteps;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"full run estimate: VAE {vae / 60:0.0} min ({full.VaeSteps} steps), U-Net {unet / 60:0.0} min ({full.UnetSteps} steps), plus data, judge and evaluation"));
        }
        finally
        {
            if (args.Length == 0 && Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }

    static string Cpu() => File.Exists("/proc/cpuinfo")
        ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown"
        : "unknown";
}
