using NotebookTrainer.Models;
using NotebookTrainer.ModelConfigs;
using NotebookTrainer.Models.UNet;
using NotebookTrainer.Optimizers;
using NotebookTrainer.Runtime;
using static TorchSharp.torch;

namespace NotebookTrainer.Benchmarks;

/// <summary>
/// One step of full U-Net training (DreamBooth, fine-tuning) with the SD1.5 config at 256 px (32×32 latents), batch 1:
/// forward, backward and the optimizer's update of all 860M weights. Three ways to make it fit: AdamW on fp32 weights
/// (two fp32 moments per weight), bf16 weights with Adafactor (factored second moment, no first), and AdamW on fp32
/// weights with gradient checkpointing (activations recomputed in backward). Seconds per step (median), and the peak
/// resident memory that training adds to the built model: gradients, optimizer state, activations and temporaries.
/// </summary>
static class FullUnetStep
{
    static readonly (string Name, ScalarType DType, string Optimizer, bool Checkpointing)[] Setups =
    [
        ("AdamW, fp32 weights", ScalarType.Float32, "AdamW", false),
        ("Adafactor, bf16 weights", ScalarType.BFloat16, "Adafactor", false),
        ("AdamW, fp32, gradient checkpointing", ScalarType.Float32, "AdamW", true),
    ];

    public static void Run(string[] args)
    {
        var repeats = args.SkipWhile(a => a != "--steps").Skip(1).Select(int.Parse).FirstOrDefault(3);
        var only = args.SkipWhile(a => a != "--only").Skip(1).Select(int.Parse).FirstOrDefault(0);
        Console.WriteLine($"SD1.5-config U-Net, 32x32 latents (256 px), batch 1, {repeats} timed steps after one warm-up");
        foreach (var (name, dtype, optimizerType, checkpointing) in only > 0 ? [Setups[only - 1]] : Setups)
        {
            manual_seed(0);
            using var unet = new UNet2DConditionModel(UNet2DConditionConfig.StableDiffusion15, dtype);
            unet.EnableGradientCheckpointing(checkpointing);
            unet.train();
            GC.Collect();
            GC.WaitForPendingFinalizers();
            ProcessMemory.ResetPeak();   // after building the model: its fp32-then-cast construction is not part of a step
            var before = ProcessMemory.ResidentBytes() ?? 0;
            // kohya's recommended fixed-rate Adafactor (no relative step), as DreamBooth guides use it.
            using var optimizer = OptimizerFactory.Create(optimizerType, [new ParameterGroup("unet", unet.parameters().ToList(), 1e-6)],
                optimizerType == "Adafactor" ? ["scale_parameter=False", "relative_step=False", "warmup_init=False"] : null);
            using var latents = randn([1, 4, 32, 32], dtype: dtype);
            using var text = randn([1, 77, 768], dtype: dtype);
            using var t = full([1], 500, ScalarType.Int64);
            using var target = randn([1, 4, 32, 32]);
            var seconds = Timing.MedianSeconds(() =>
            {
                using var scope = NewDisposeScope();
                optimizer.ZeroGrad();
                nn.functional.mse_loss(unet.forward(latents, t, text).to(ScalarType.Float32), target).backward();
                optimizer.Step();
            }, warmup: 1, repeats: repeats);
            var peak = (ProcessMemory.PeakResidentBytes() ?? 0) - before;
            var weights = unet.parameters().Sum(p => p.numel() * p.ElementSize);
            var math = dtype == ScalarType.BFloat16 && !TorchRuntime.CpuComputesNatively(dtype) ? " (bf16 math runs in fp32 on this CPU)" : "";
            Console.WriteLine($"{name,-36} {seconds,7:F2} s/step   weights {weights / 1e9:F1} GB, training adds {peak / 1e9,5:F1} GB at peak{math}");
        }
    }
}
