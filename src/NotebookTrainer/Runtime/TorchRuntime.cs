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
}
