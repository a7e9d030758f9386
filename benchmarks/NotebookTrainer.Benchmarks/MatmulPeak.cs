using static TorchSharp.torch;

namespace NotebookTrainer.Benchmarks;

/// <summary>The FLOP/s a large square matmul reaches: the practical peak other benchmarks are measured against.</summary>
static class MatmulPeak
{
    public static void Run(string[] args)
    {
        Console.WriteLine($"threads: {get_num_threads()}");
        foreach (var dtype in new[] { ScalarType.Float32, ScalarType.BFloat16 })
        {
            var n = dtype == ScalarType.Float32 || Measure(dtype, 512) > 0.05 * Measure(ScalarType.Float32, 512) ? 2048 : 512;
            Console.WriteLine($"{dtype,-9} matmul peak: {Measure(dtype, n) / 1e9:F1} GFLOP/s ({n}×{n})");
        }
    }

    public static double Measure(ScalarType dtype, int n = 2048)
    {
        using var a = randn([n, n], dtype: dtype);
        using var b = randn([n, n], dtype: dtype);
        var seconds = Timing.MedianSeconds(() => { using var c = matmul(a, b); }, warmup: 1, repeats: 5);
        return 2.0 * n * n * n / seconds;
    }
}
