using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace NotebookTrainer.Runtime;

/// <summary>
/// Process-wide native settings, applied from a module initializer so they hold before any torch call in this
/// library, a notebook or a test. .NET's Environment.SetEnvironmentVariable does not reach native getenv on Unix,
/// so both go through libc.
/// <list type="bullet">
/// <item>OpenMP wait policy: by default libgomp's idle threads spin for a while before sleeping. On an idle machine
/// that is faster (measured: tiny U-Net step 1.4×, SD1.5 step 1.1×), but when other work competes for the cores the
/// spinning threads take the time the working ones need: one busy process beside it made even a short spin
/// (GOMP_SPINCOUNT=10000) 2× slower than passive waiting, and with two a tiny checkpointed step went from 0.7 s to
/// 10.9 s at libgomp's default spin. We ask for passive waiting unless the user set OMP_WAIT_POLICY or
/// GOMP_SPINCOUNT (which wins over the policy); <see cref="ThreadWaiting"/> says which holds.</item>
/// <item>glibc malloc keeps freed memory: libtorch's CPU allocator is plain malloc, and glibc hands every block
/// over 32 MB straight back to the kernel on free. A U-Net backward allocates gigabytes of such blocks per step,
/// so each step paid for millions of fresh page faults (on a VM, each one also faulted on the host): the SD1.5
/// step spent more time in the kernel than in compute. One arena, no mmap'd blocks and no trimming let freed
/// blocks be reused, as PyTorch's GPU caching allocator does; the process keeps its peak size until it exits.
/// Set NTRAIN_MALLOC=system to leave malloc as it is. glibc applies this fully only to the main thread; other
/// threads keep per-thread arenas that still map blocks over 64 MB, which is why the CLI and our notebook runner
/// run their work on the main thread. <see cref="FreedTensorMemoryStaysInProcess"/> tells which case holds.</item>
/// </list>
/// </summary>
static class NativeEnvironment
{
    const int M_TRIM_THRESHOLD = -1, M_MMAP_MAX = -4, M_ARENA_MAX = -8;

    [ModuleInitializer]
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "CA2255", Justification = "Both settings must be in place before the first torch call, whichever front (CLI, runner, notebook kernel, tests) loads the library.")]
    internal static void Initialize()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return;
        if (Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") is null && Environment.GetEnvironmentVariable("GOMP_SPINCOUNT") is null)
            setenv("OMP_WAIT_POLICY", "PASSIVE", 0);
        if (OperatingSystem.IsLinux() && Environment.GetEnvironmentVariable("NTRAIN_MALLOC") != "system")
            KeepFreedMemory();
    }

    /// <summary>How libtorch's idle OpenMP threads wait, as libgomp read it from the environment at load.</summary>
    public static string ThreadWaiting()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return "runtime default";
        var spinCount = Marshal.PtrToStringUTF8(getenv("GOMP_SPINCOUNT"));
        var policy = Marshal.PtrToStringUTF8(getenv("OMP_WAIT_POLICY"));
        if (spinCount is not null) return $"spin (GOMP_SPINCOUNT={spinCount}), then sleep";
        return policy?.ToUpperInvariant() switch
        {
            "PASSIVE" => "sleep at once (OMP_WAIT_POLICY=PASSIVE); on a machine that runs nothing else, GOMP_SPINCOUNT=300000 makes CPU steps 10–40% faster",
            "ACTIVE" => "spin (OMP_WAIT_POLICY=ACTIVE)",
            _ => "spin briefly, then sleep (libgomp default)",
        };
    }

    static void KeepFreedMemory()
    {
        try
        {
            mallopt(M_ARENA_MAX, 1);
            mallopt(M_MMAP_MAX, 0);
            mallopt(M_TRIM_THRESHOLD, -1);
        }
        catch (EntryPointNotFoundException)
        {
            // Not glibc (musl has no mallopt): its allocator stays as it is.
        }
    }

    /// <summary>
    /// Whether a large tensor freed on the calling thread stays in the process for the next allocation (measured:
    /// a 96 MB tensor is made and freed, then glibc's counters are read). Null where the C library is not glibc.
    /// </summary>
    public static bool? FreedTensorMemoryStaysInProcess()
    {
        if (!OperatingSystem.IsLinux()) return null;
        const long bytes = 96L << 20;
        try
        {
            var mappedBefore = mallinfo2().hblkhd;
            using (var big = TorchSharp.torch.empty([bytes / 4], dtype: TorchSharp.torch.ScalarType.Float32))
            {
                big.fill_(1);
                if (mallinfo2().hblkhd != mappedBefore) return false;
            }
            return mallinfo2().fordblks >= (nuint)bytes;
        }
        catch (EntryPointNotFoundException)
        {
            return null;
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    struct MallInfo2
    {
        public nuint arena, ordblks, smblks, hblks, hblkhd, usmblks, fsmblks, uordblks, fordblks, keepcost;
    }

    [DllImport("libc")]
    static extern MallInfo2 mallinfo2();

    [DllImport("libc", SetLastError = true)]
    static extern int setenv(string name, string value, int overwrite);

    [DllImport("libc")]
    static extern IntPtr getenv(string name);

    [DllImport("libc")]
    static extern int mallopt(int param, int value);
}
