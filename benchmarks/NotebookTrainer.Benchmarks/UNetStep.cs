using NotebookTrainer.Models.Configs;
using NotebookTrainer.Models.UNet;
using static TorchSharp.torch;

namespace NotebookTrainer.Benchmarks;

/// <summary>
/// SD1.5-config U-Net forward+backward (all weights trainable, so backward ≈ 2× forward) at 32×32 latents,
/// batch 1, against the measured matmul peak. Reference on the 2-core dev box: PyTorch 1.13 + diffusers
/// 6.2 s fp32 / 1.67 s bf16.
/// </summary>
static class UNetStep
{
    const double ForwardFlops = 180e9;
    static readonly Dictionary<ScalarType, double> ReferenceSeconds = new() { [ScalarType.Float32] = 6.2, [ScalarType.BFloat16] = 1.67 };

    public static void Run(string[] args)
    {
        var dtypes = args.Length > 0 ? args.Select(a => a == "bf16" ? ScalarType.BFloat16 : ScalarType.Float32).ToArray() : [ScalarType.Float32, ScalarType.BFloat16];
        foreach (var dtype in dtypes)
        {
            if (dtype != ScalarType.Float32 && MatmulPeak.Measure(dtype, n: 512) < 0.05 * MatmulPeak.Measure(ScalarType.Float32, n: 512))
            {
                Console.WriteLine($"{dtype,-9} skipped: this CPU has no {dtype} matmul units (libtorch runs it at under 5% of the fp32 rate); " +
                                  $"PyTorch reference {ReferenceSeconds[dtype]:F2} s is from a CPU with AVX512-BF16/AMX");
                continue;
            }
            var peak = MatmulPeak.Measure(dtype);
            manual_seed(0);
            using var unet = new UNet2DConditionModel(UNet2DConditionConfig.StableDiffusion15, dtype);
            using var latents = randn([1, 4, 32, 32], dtype: dtype);
            using var text = randn([1, 77, 768], dtype: dtype);
            using var t = tensor(new long[] { 500 });
            using var target = randn([1, 4, 32, 32], dtype: dtype);
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
                nn.functional.mse_loss(unet.forward(latents, t, text).to(ScalarType.Float32), target.to(ScalarType.Float32)).backward();
            }, warmup: 1, repeats: 3);
            var achieved = 3 * ForwardFlops / step;
            Console.WriteLine($"{dtype,-9} forward {forward:F2} s ({ForwardFlops / forward / 1e9:F0} GFLOP/s), fwd+bwd {step:F2} s ({achieved / 1e9:F0} GFLOP/s, " +
                              $"{achieved / peak:P0} of {peak / 1e9:F0} GFLOP/s matmul peak); PyTorch reference {ReferenceSeconds[dtype]:F2} s → ratio {step / ReferenceSeconds[dtype]:F2}x");
        }
    }
}
