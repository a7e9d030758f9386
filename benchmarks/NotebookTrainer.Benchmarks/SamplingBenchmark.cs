using NotebookTrainer.Models;
using NotebookTrainer.Sampling;
using NotebookTrainer.World;
using static TorchSharp.torch;

namespace NotebookTrainer.Benchmarks;

/// <summary>
/// Sampling the tiny model end to end (prompt embedding, CFG U-Net steps, VAE decode, PNG): seconds per image and
/// U-Net evaluations per second for several samplers, against the bare U-Net forward at the same batch (2, CFG).
/// Usage: sampling [--side 64] [--steps 20] [--images 4] [--threads N]
/// </summary>
static class SamplingBenchmark
{
    public static void Run(string[] args)
    {
        int Arg(string name, int fallback) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1]) : fallback;
        var side = Arg("--side", 64);
        var steps = Arg("--steps", 20);
        var images = Arg("--images", 4);
        if (Arg("--threads", 0) is > 0 and var threads) set_num_threads(threads);
        var dir = Path.Combine(Path.GetTempPath(), "ntrain-sampling-benchmark");
        var modelPath = TinyStableDiffusion.Write(dir);
        using var model = StableDiffusion.Load(modelPath);
        var pipeline = StableDiffusionPipeline.Create(model, modelPath);
        var evaluations = 0;
        var counted = pipeline with { Unet = (x, t, c) => { evaluations++; return pipeline.Unet(x, t, c); } };
        var generator = new SampleImageGenerator(counted);
        var prompt = new SamplePrompt("sks, red circle, white background") { Width = side, Height = side, NegativePrompt = "black background" };
        Console.WriteLine($"tiny model, {side}x{side}, {steps} steps, CFG 7.5 (U-Net batch 2), {images} images, torch threads {get_num_threads()}");

        var latentSide = side / pipeline.VaeScaleFactor;
        using var x = randn(2, pipeline.LatentChannels, latentSide, latentSide);
        using var c = randn(2, 77, model.Unet.Config.CrossAttentionDim);
        using var t = tensor(500f);
        var bare = Timing.MedianSeconds(() => { using var _ = no_grad(); using var o = model.Unet.forward(x, t, c); }, warmup: 3, repeats: 20);
        Console.WriteLine($"  bare U-Net forward, batch 2: {bare * 1000:F2} ms ({1 / bare:F1} evaluations/s)");

        foreach (var sampler in new[] { "ddim", "euler_a", "dpmsolver++", "heun" })
        {
            generator.GeneratePng(prompt, 0, sampler, steps);   // warm-up
            evaluations = 0;
            var watch = System.Diagnostics.Stopwatch.StartNew();
            for (var i = 0; i < images; i++) generator.GeneratePng(prompt, i, sampler, steps);
            var seconds = watch.Elapsed.TotalSeconds;
            var perImage = seconds / images;
            var rate = evaluations / seconds;
            Console.WriteLine($"  {sampler,-12} {perImage * 1000,8:F1} ms/image  {evaluations / images,3} U-Net evals/image  {rate,7:F1} evals/s  " +
                $"({rate * bare:P0} of bare U-Net rate)");
        }
    }
}
