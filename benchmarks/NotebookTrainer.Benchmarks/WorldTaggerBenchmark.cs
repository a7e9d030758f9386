using System.Diagnostics;
using NotebookTrainer.Progress;
using NotebookTrainer.Tagging;
using NotebookTrainer.World;

namespace NotebookTrainer.Benchmarks;

/// <summary>
/// Trains the world judge with the default options (or <c>--steps</c>, <c>--images</c>, <c>--test-images</c>,
/// <c>--seed</c>) and prints wall and CPU time per phase, steps/s, the model size and the per-attribute accuracy on
/// fresh scenes. Targets: about 3 minutes on 2 CPU cores, ≥95% on every attribute, held-out heart and purple included.
/// On a shared machine wall time overstates the cost; CPU seconds ÷ cores is the idle-machine estimate.
/// </summary>
public static class WorldTaggerBenchmark
{
    public static void Run(string[] args)
    {
        var defaults = new WorldTaggerOptions();
        var options = new WorldTaggerOptions
        {
            TrainImages = Int(args, "--images", defaults.TrainImages),
            Steps = Int(args, "--steps", defaults.Steps),
            TestImages = Int(args, "--test-images", defaults.TestImages),
        };
        var seed = Int(args, "--seed", 42);
        var dir = Path.Combine(Path.GetTempPath(), $"nt-bench-judge-{Guid.NewGuid():N}");
        var cpuModel = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
            : null;
        Console.WriteLine($"world judge: seed {seed}, {options.TrainImages} scenes, {options.Steps} steps of {options.BatchSize}, test {options.TestImages}; " +
                          $"{cpuModel ?? "unknown CPU"}, {Environment.ProcessorCount} cores, {TorchSharp.torch.get_num_threads()} torch threads");
        try
        {
            var phases = new List<(string Task, TimeSpan Cpu, TimeSpan Wall)>();
            var process = Process.GetCurrentProcess();
            var phaseCpu = process.TotalProcessorTime;
            var phaseWall = Stopwatch.StartNew();
            string? task = null;
            // A phase runs from the first report of its task to the first report of the next (the first from the start).
            void Next(string? next)
            {
                process.Refresh();
                if (task is not null)
                {
                    phases.Add((task, process.TotalProcessorTime - phaseCpu, phaseWall.Elapsed));
                    phaseCpu = process.TotalProcessorTime;
                    phaseWall.Restart();
                }
                task = next;
            }
            var progress = new Progress(u =>
            {
                if (u.Task != task) Next(u.Task);
                if (u.Done == u.Total) Console.WriteLine($"  {u}");
            });
            var fit = WorldTagger.Train(dir, seed, options, progress);
            Next(null);

            foreach (var (name, cpu, wall) in phases)
                Console.WriteLine($"  {name,-22} wall {wall.TotalSeconds,7:0.0} s   CPU {cpu.TotalSeconds,7:0.0} s   (CPU / cores {cpu.TotalSeconds / Environment.ProcessorCount,6:0.0} s)");
            Console.WriteLine($"  training: {options.Steps / fit.TrainTime.TotalSeconds:0.00} steps/s, {options.Steps * options.BatchSize / fit.TrainTime.TotalSeconds:0} images/s (wall)");
            Console.WriteLine($"  model.onnx {fit.ModelBytes / 1024.0:0} KiB, final loss {fit.FinalLoss:0.0000}");
            Console.WriteLine(fit.Test);
            foreach (var (name, accuracy) in fit.Test.Targets) Console.WriteLine($"  target {name,-18} {accuracy,7:P1}");
            Console.WriteLine($"  worst target {fit.Test.WorstTarget:P1} (≥ 95% wanted); worst of all values {fit.Test.Values.Where(v => v.Images > 0).Min(v => v.Accuracy):P1}");
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Reports on the calling thread, so phase boundaries are seen in order.</summary>
    sealed class Progress(Action<ProgressUpdate> report) : IProgress<ProgressUpdate>
    {
        public void Report(ProgressUpdate value) => report(value);
    }

    static int Int(string[] args, string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], out var v) ? v : fallback;
    }
}
