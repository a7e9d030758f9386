using NotebookTrainer.Checkpoints;
using NotebookTrainer.Models;
using NotebookTrainer.Models.Clip;
using NotebookTrainer.ModelConfigs;
using NotebookTrainer.Models.UNet;
using NotebookTrainer.Models.Vae;
using static TorchSharp.torch;

namespace NotebookTrainer.Benchmarks;

/// <summary>
/// Peak resident memory of <see cref="StableDiffusion.Load"/> on an SD1.5-shaped fp16 single file (weights are
/// zeros: shapes and sizes are what matter), per target dtype, against the model's size in that dtype.
/// </summary>
static class LoadMemory
{
    public static void Run(string[] args)
    {
        var path = args.Length > 0 ? args[0] : Path.Combine(Path.GetTempPath(), "ntrain-sd15-shaped-fp16.safetensors");
        if (!File.Exists(path)) WriteSd15Shaped(path);
        Console.WriteLine($"file: {path} ({new FileInfo(path).Length / 1e9:F2} GB, fp16)");
        foreach (var dtype in new[] { ScalarType.BFloat16, ScalarType.Float16, ScalarType.Float32 })
        {
            GC.Collect();
            ProcessMemory.ResetPeak();
            var before = ProcessMemory.ResidentBytes()!.Value;
            var anonBefore = ProcessMemory.AnonymousResidentBytes()!.Value;
            long anonLoaded;
            var watch = System.Diagnostics.Stopwatch.StartNew();
            long bytes;
            using (var model = StableDiffusion.Load(path, dtype: dtype))
            {
                bytes = new nn.Module[] { model.Unet, model.Vae, model.TextEncoder }.SelectMany(m => m.parameters()).Sum(p => p.numel() * p.ElementSize);
                anonLoaded = ProcessMemory.AnonymousResidentBytes()!.Value - anonBefore;
            }
            var peak = ProcessMemory.PeakResidentBytes()!.Value - before;
            Console.WriteLine($"{dtype,-9} load {watch.Elapsed.TotalSeconds:F1} s, weights {bytes / 1e9:F2} GB, peak RSS growth {peak / 1e9:F2} GB ({(double)peak / bytes:F2}x weights, " +
                              $"includes the mapped file's page cache); anonymous memory after load +{anonLoaded / 1e9:F2} GB ({(double)anonLoaded / bytes:F2}x weights)");
        }
    }

    static void WriteSd15Shaped(string path)
    {
        var meta = device("meta");
        using var weights = new StableDiffusionWeights(ModelArchitecture.StableDiffusion1, DiffusersConfigs.Defaults(ModelArchitecture.StableDiffusion1));
        void Fill(nn.Module module, Dictionary<string, Tensor> into)
        {
            using (module)
                foreach (var (name, p) in module.named_parameters())
                    into[name] = zeros(p.shape, ScalarType.Float16);
        }
        Fill(new UNet2DConditionModel(UNet2DConditionConfig.StableDiffusion15, device: meta), weights.Unet);
        Fill(new AutoencoderKL(AutoencoderKLConfig.StableDiffusion, device: meta), weights.Vae);
        Fill(new CLIPTextModel(CLIPTextConfig.StableDiffusion1, device: meta), weights.TextEncoder);
        CheckpointWriter.WriteSingleFile(weights, path);
    }
}
