using System.Text.Json;
using NotebookTrainer.ModelConfigs;
using NotebookTrainer.Models.UNet;
using NotebookTrainer.Runtime;
using static TorchSharp.torch;

namespace NotebookTrainer.Benchmarks;

/// <summary>
/// SD1.5-config U-Net forward+backward (all weights trainable, so backward ≈ 2× forward) at 32×32 latents,
/// batch 1, against the measured matmul peak and against PyTorch + diffusers. The fair reference is the same step
/// measured on the same machine by benchmarks/reference/unet_step.py (--reference its JSON); without one, the
/// figures the issue quotes (6.2 s fp32 / 1.67 s bf16, from a machine with faster matmul and bf16 units) are shown.
/// </summary>
static class UNetStep
{
    const double ForwardFlops = 180e9;
    static readonly Dictionary<string, double> QuotedSeconds = new() { ["fp32"] = 6.2, ["bf16"] = 1.67 };

    public static void Run(string[] args)
    {
        var referenceFile = args.SkipWhile(a => a != "--reference").Skip(1).FirstOrDefault();
        var names = args.Where(a => a is "fp32" or "bf16").ToList();
        if (names.Count == 0) names = ["fp32", "bf16"];
        using var reference = referenceFile is null ? null : JsonDocument.Parse(File.ReadAllText(referenceFile));
        foreach (var name in names)
        {
            var dtype = name == "bf16" ? ScalarType.BFloat16 : ScalarType.Float32;
            var computesInFloat32 = !TorchRuntime.CpuComputesNatively(dtype);
            var peak = MatmulPeak.Measure(computesInFloat32 ? ScalarType.Float32 : dtype);
            manual_seed(0);
            using var unet = new UNet2DConditionModel(UNet2DConditionConfig.StableDiffusion15, dtype);
            using var latents = randn([1, 4, 32, 32], dtype: dtype);
            using var text = randn([1, 77, 768], dtype: dtype);
            using var t = tensor(new long[] { 500 });
            using var target = randn([1, 4, 32, 32]);
            var forward = Timing.MedianSeconds(() =>
            {
                using var scope = NewDisposeScope();
                using var _ = no_grad();
                unet.forward(latents, t, text);
            }, warmup: 1, repeats: 3);
            var step = Timing.MedianSeconds(() =>
            {
                using var scope = NewDisposeScope();
                unet.zero_grad();
                nn.functional.mse_loss(unet.forward(latents, t, text).to(ScalarType.Float32), target).backward();
            }, warmup: 1, repeats: 3);
            var achieved = 3 * ForwardFlops / step;
            var how = computesInFloat32 ? " (weights bf16, math fp32: this CPU has no bf16 units)" : "";
            Console.WriteLine($"{name}{how}: forward {forward:F2} s ({ForwardFlops / forward / 1e9:F0} GFLOP/s), fwd+bwd {step:F2} s " +
                              $"({achieved / 1e9:F0} GFLOP/s, {achieved / peak:P0} of the {peak / 1e9:F0} GFLOP/s {(computesInFloat32 ? "fp32" : name)} matmul peak)");
            if (reference?.RootElement.TryGetProperty(name, out var measured) == true)
            {
                var seconds = measured.GetProperty("step_s").GetDouble();
                var theirPeak = measured.GetProperty("matmul_peak_flops").GetDouble();
                Console.WriteLine($"  PyTorch {reference.RootElement.GetProperty("torch").GetString()} + diffusers on this machine: fwd+bwd {seconds:F2} s " +
                                  $"({3 * ForwardFlops / seconds / theirPeak:P0} of its {theirPeak / 1e9:F0} GFLOP/s peak) → ours/theirs {step / seconds:F2}x");
            }
            Console.WriteLine($"  figure quoted in the issue (another machine): {QuotedSeconds[name]:F2} s → ratio {step / QuotedSeconds[name]:F2}x");

            // What LoRA training does: frozen weights, gradients only flow back to the input (and the adapters).
            foreach (var p in unet.parameters()) p.requires_grad = false;
            using var input = latents.detach().requires_grad_(true);
            var frozen = Timing.MedianSeconds(() =>
            {
                using var scope = NewDisposeScope();
                nn.functional.mse_loss(unet.forward(input, t, text).to(ScalarType.Float32), target).backward();
            }, warmup: 1, repeats: 3);
            Console.WriteLine($"  frozen weights (LoRA-style, input gradient only): fwd+bwd {frozen:F2} s");
        }
    }
}
