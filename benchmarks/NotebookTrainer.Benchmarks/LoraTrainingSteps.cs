using System.Diagnostics;
using NotebookTrainer.Datasets;
using NotebookTrainer.Models;
using NotebookTrainer.Training;
using NotebookTrainer.World;

namespace NotebookTrainer.Benchmarks;

/// <summary>
/// Whole LoRA training steps (latents cached; text encoder + U-Net forward/backward; optimizer) on the embedded tiny
/// model: steps/s and peak resident memory, for the tiny (64 px) and a small (128 px) configuration, with the frozen
/// weights in fp32 and in bf16.
/// </summary>
static class LoraTrainingSteps
{
    public static void Run(string[] args)
    {
        var steps = args.Length > 0 ? int.Parse(args[0]) : 20;
        var work = Directory.CreateTempSubdirectory("ntrain-bench-train-").FullName;
        try
        {
            SampleDataset.Generate(Path.Combine(work, "data"), count: 16);
            var results = new List<(string Name, double StepsPerSecond, long PeakBytes)>();
            foreach (var (name, resolution) in new[] { ("tiny", 64), ("small", 128) })
                foreach (var precision in new[] { "no", "bf16" })
                {
                    var (rate, peak) = Measure(work, resolution, precision, steps);
                    results.Add(($"{name} {resolution}px, frozen {(precision == "no" ? "fp32" : "bf16")}", rate, peak));
                    Console.WriteLine($"{results[^1].Name,-28} {rate,7:F2} steps/s   peak RSS {peak / 1024.0 / 1024.0,7:F0} MiB   (batch 4, dim 8, AdamW)");
                }
            for (var i = 0; i < results.Count; i += 2)
                Console.WriteLine($"{results[i].Name.Split(',')[0]}: bf16/fp32 speed ratio {results[i + 1].StepsPerSecond / results[i].StepsPerSecond:F2}");
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    static (double StepsPerSecond, long PeakBytes) Measure(string work, int resolution, string precision, int steps)
    {
        var config = TrainingConfig.Parse($"""
            pretrained_model_name_or_path = "embedded:tiny"
            train_data_dir = {System.Text.Json.JsonSerializer.Serialize(Path.Combine(work, "data"))}
            caption_extension = ".txt"
            resolution = {resolution}
            train_batch_size = 4
            max_train_steps = {steps}
            network_dim = 8
            learning_rate = 1e-3
            mixed_precision = "{precision}"
            cache_latents = true
            output_dir = {System.Text.Json.JsonSerializer.Serialize(Path.Combine(work, $"out-{resolution}-{precision}"))}
            """);
        ProcessMemory.ResetPeak();
        var dataset = TrainingDataset.Build(config);
        using var models = TrainingModelLoader.Load(config, TorchSharp.torch.CPU);
        using var trainer = new Trainer(config, dataset, models, TorchSharp.torch.CPU);
        var clock = new Stopwatch();
        const int warmup = 3;
        trainer.Train(new TrainingProgressSink(p => { if (p.Step == warmup) clock.Start(); }));
        clock.Stop();
        return ((steps - warmup) / clock.Elapsed.TotalSeconds, ProcessMemory.PeakResidentBytes() ?? 0);
    }
}
