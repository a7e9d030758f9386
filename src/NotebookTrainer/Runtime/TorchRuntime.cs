using TorchSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.Runtime;

/// <summary>What libtorch this process runs on, and which device training should use.</summary>
public static class TorchRuntime
{
    /// <summary>
    /// Picks CUDA when the native backend has it, else CPU. CUDA is initialised before any other torch
    /// call because inside notebook hosts <c>cuda.is_available()</c> can report false otherwise.
    /// </summary>
    public static Device DefaultDevice => LazyDevice.Value;

    static readonly Lazy<Device> LazyDevice = new(() =>
    {
        try { InitializeDeviceType(DeviceType.CUDA); } catch (Exception) { /* CPU build: no CUDA backend. */ }
        return cuda.is_available() ? CUDA : CPU;
    });

    public static string LibTorchVersion => __version__;

    /// <summary>How libtorch's idle CPU threads wait (see <see cref="NativeEnvironment"/>).</summary>
    public static string ThreadWaiting => NativeEnvironment.ThreadWaiting();

    /// <summary>
    /// Whether this CPU has matrix units for <paramref name="dtype"/> (AVX512-BF16/AMX for bf16, AVX512-FP16/AMX
    /// for fp16). Without them libtorch emulates the type (a measured bf16 matmul ran at about 1% of fp32), so the
    /// model layers compute in fp32 instead (<see cref="Models.Layers.Float32Compute"/>).
    /// </summary>
    public static bool CpuComputesNatively(ScalarType dtype)
    {
        if (dtype is not (ScalarType.BFloat16 or ScalarType.Float16)) return true;
        var flags = CpuFlags.Value;
        return dtype == ScalarType.BFloat16
            ? flags.Contains("avx512_bf16") || flags.Contains("amx_bf16")
            : flags.Contains("avx512_fp16") || flags.Contains("amx_fp16");
    }

    static readonly Lazy<HashSet<string>> CpuFlags = new(() =>
    {
        const string cpuinfo = "/proc/cpuinfo";
        if (!File.Exists(cpuinfo)) return [];
        var line = File.ReadLines(cpuinfo).FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal));
        return line is null ? [] : line[(line.IndexOf(':') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet();
    });
}
