using System.Globalization;
using System.Runtime.InteropServices;
using NotebookTrainer.Display;
using TorchSharp;

namespace NotebookTrainer.Runtime;

/// <summary>Something the machine lacks for training, and how to fix it.</summary>
public sealed record EnvironmentFinding(string Missing, string Consequence, string Fix);

/// <summary>
/// What this process runs on: .NET, OS, TorchSharp and libtorch, the device training will use, CPU, memory and
/// disk, plus what is missing with the fix. Shown by notebook 00-install and <c>ntrain version</c>.
/// </summary>
[TypeFormatterSource(typeof(NotebookFormatterSource))]
public sealed record EnvironmentReport(
    string DotNet,
    string OperatingSystem,
    string Architecture,
    string TorchSharpVersion,
    string LibTorchVersion,
    string TorchBackend,
    bool CudaAvailable,
    int CudaDevices,
    string CpuModel,
    int LogicalCores,
    long? TotalMemoryBytes,
    long? AvailableMemoryBytes,
    string WorkingDirectory,
    long? FreeDiskBytes,
    bool? FreedTensorMemoryStaysInProcess,
    string ThreadWaiting,
    IReadOnlyList<EnvironmentFinding> Findings) : IHtmlRenderable
{
    const long GiB = 1L << 30;
    const long MinimumMemory = 8 * GiB;
    const long MinimumDisk = 10 * GiB;

    /// <summary>Probes the machine. Initialises CUDA before any other torch call (see <see cref="TorchRuntime"/>).</summary>
    public static EnvironmentReport Collect(string? workingDirectory = null)
    {
        var device = TorchRuntime.DefaultDevice;
        var cuda = device.type == DeviceType.CUDA;
        var cudaDevices = cuda ? torch.cuda.device_count() : 0;
        var (total, available) = ReadMemInfo();
        var dir = Path.GetFullPath(workingDirectory ?? Directory.GetCurrentDirectory());
        long? freeDisk = null;
        try { freeDisk = new DriveInfo(dir).AvailableFreeSpace; } catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException) { }
        var backend = torch.cuda_is_available() || cuda ? "CUDA" : "CPU";

        var keepsFreedMemory = NativeEnvironment.FreedTensorMemoryStaysInProcess();
        var findings = new List<EnvironmentFinding>();
        if (keepsFreedMemory == false)
            findings.Add(new("reuse of freed tensor memory on this thread",
                "each training step gets fresh pages from the kernel; an SD 1.5 U-Net step measured 2.4× slower on CPU",
                "train from the `ntrain` CLI or the `ntrain-notebooks` runner (they work on the main thread), or start the process with MALLOC_ARENA_MAX=1 MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=-1"));
        if (!cuda)
            findings.Add(new("CUDA GPU", "training runs on the CPU path: fine for the tiny default model, slow for SD 1.5/SDXL",
                "on an NVIDIA machine with driver ≥ 570, build with `dotnet build -p:TorchBackend=cuda` (libtorch-cuda-12.8) and restart the kernel"));
        if (total is { } t && t < MinimumMemory)
            findings.Add(new("memory", $"{Gib(t)} total; SD 1.5 training needs about 8 GiB", "use the tiny default model or a machine with more RAM"));
        if (freeDisk is { } d && d < MinimumDisk)
            findings.Add(new("disk space", $"{Gib(d)} free in {dir}; a base model plus latents caches need about 10 GiB", "free space or set the output folder to a larger disk"));

        return new EnvironmentReport(
            RuntimeInformation.FrameworkDescription,
            RuntimeInformation.OSDescription,
            RuntimeInformation.ProcessArchitecture.ToString(),
            typeof(torch).Assembly.GetName().Version?.ToString(3) ?? "unknown",
            TorchRuntime.LibTorchVersion,
            backend,
            cuda,
            cudaDevices,
            ReadCpuModel(),
            Environment.ProcessorCount,
            total,
            available,
            dir,
            freeDisk,
            keepsFreedMemory,
            TorchRuntime.ThreadWaiting,
            findings);
    }

    public string ToHtml()
    {
        var rows = new List<object?[]>
        {
            new object?[] { ".NET", DotNet },
            new object?[] { "OS", $"{OperatingSystem} ({Architecture})" },
            new object?[] { "TorchSharp", TorchSharpVersion },
            new object?[] { "libtorch", $"{LibTorchVersion} ({TorchBackend} backend)" },
            new object?[] { "training device", CudaAvailable ? $"CUDA ({CudaDevices} device{(CudaDevices == 1 ? "" : "s")})" : "CPU" },
            new object?[] { "CPU", $"{CpuModel}, {LogicalCores} logical cores" },
            new object?[] { "memory", $"{Gib(AvailableMemoryBytes)} available of {Gib(TotalMemoryBytes)}" },
            new object?[] { "disk", $"{Gib(FreeDiskBytes)} free in {WorkingDirectory}" },
            new object?[] { "freed tensor memory", AllocatorText },
            new object?[] { "idle torch threads", ThreadWaiting },
        };
        var html = "<div class=\"nt-environment\"><h4>Environment</h4>" + Html.Table(["", "value"], rows);
        html += Findings.Count == 0
            ? "<p>Nothing missing.</p>"
            : "<h4>Missing</h4>" + Html.Table(["missing", "consequence", "fix"], Findings.Select(f => new object?[] { f.Missing, f.Consequence, f.Fix }));
        return html + "</div>";
    }

    public override string ToString()
    {
        var lines = new List<string>
        {
            $".NET: {DotNet}",
            $"OS: {OperatingSystem} ({Architecture})",
            $"TorchSharp {TorchSharpVersion}, libtorch {LibTorchVersion} ({TorchBackend} backend)",
            $"training device: {(CudaAvailable ? $"CUDA ({CudaDevices})" : "CPU")}",
            $"CPU: {CpuModel}, {LogicalCores} logical cores",
            $"memory: {Gib(AvailableMemoryBytes)} available of {Gib(TotalMemoryBytes)}",
            $"disk: {Gib(FreeDiskBytes)} free in {WorkingDirectory}",
            $"freed tensor memory: {AllocatorText}",
            $"idle torch threads: {ThreadWaiting}",
        };
        lines.AddRange(Findings.Select(f => $"missing {f.Missing}: {f.Consequence}. Fix: {f.Fix}"));
        return string.Join(Environment.NewLine, lines);
    }

    string AllocatorText => FreedTensorMemoryStaysInProcess switch
    {
        true => "kept for reuse (glibc malloc tuned)",
        false => "returned to the kernel (glibc default on this thread)",
        null => "system allocator",
    };

    static string Gib(long? bytes) => bytes is { } b ? (b / (double)GiB).ToString("0.0", CultureInfo.InvariantCulture) + " GiB" : "unknown";

    static (long? Total, long? Available) ReadMemInfo()
    {
        const string path = "/proc/meminfo";
        if (!File.Exists(path))
            return (GC.GetGCMemoryInfo().TotalAvailableMemoryBytes, null);
        long? total = null, available = null;
        foreach (var line in File.ReadLines(path))
        {
            var parts = line.Split(':', 2);
            if (parts.Length != 2) continue;
            var kib = long.TryParse(parts[1].Trim().Split(' ')[0], out var v) ? v * 1024 : (long?)null;
            if (parts[0] == "MemTotal") total = kib;
            else if (parts[0] == "MemAvailable") available = kib;
        }
        return (total, available);
    }

    static string ReadCpuModel()
    {
        const string path = "/proc/cpuinfo";
        if (File.Exists(path))
        {
            var model = File.ReadLines(path).FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            if (model is not null) return model.Split(':', 2)[1].Trim();
        }
        return RuntimeInformation.ProcessArchitecture.ToString();
    }
}
