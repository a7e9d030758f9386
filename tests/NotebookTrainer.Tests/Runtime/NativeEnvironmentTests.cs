using System.Runtime.InteropServices;
using NotebookTrainer.Runtime;

namespace NotebookTrainer.Tests.Runtime;

public class NativeEnvironmentTests
{
    [DllImport("libc")]
    static extern IntPtr getenv(string name);

    [Fact]
    public void OpenMpWaitPolicyIsPassiveForLibTorchUnlessTheUserChoseOne()
    {
        _ = TorchRuntime.LibTorchVersion;   // the library is loaded, so its module initializer has run
        var native = Marshal.PtrToStringAnsi(getenv("OMP_WAIT_POLICY"));
        var chosen = Environment.GetEnvironmentVariable("OMP_WAIT_POLICY");
        Assert.Equal(chosen ?? (Environment.GetEnvironmentVariable("GOMP_SPINCOUNT") is null ? "PASSIVE" : null), native);
    }

    [Theory]
    [InlineData(null, "idle torch threads: sleep at once (OMP_WAIT_POLICY=PASSIVE)")]
    [InlineData("300000", "idle torch threads: spin (GOMP_SPINCOUNT=300000), then sleep")]
    public void Env_reports_how_idle_torch_threads_wait(string? spinCount, string expected)
    {
        var (code, output, _) = NtrainProcess.Run(["env"], TimeSpan.FromMinutes(1), start =>
        {
            start.Environment.Remove("OMP_WAIT_POLICY");
            if (spinCount is null) start.Environment.Remove("GOMP_SPINCOUNT");
            else start.Environment["GOMP_SPINCOUNT"] = spinCount;
        });
        Assert.Equal(0, code);
        Assert.Contains(expected, output);
    }

    [Fact]
    public void On_the_main_thread_a_freed_large_tensor_stays_in_the_process_for_the_next_allocation()
    {
        // The test host runs tests on pool threads, whose glibc arenas still map large blocks; ntrain works on the
        // main thread, so the probe runs there, in a child process.
        var (code, output, _) = NtrainProcess.Run(["env"], TimeSpan.FromMinutes(1), start => start.Environment.Remove("NTRAIN_MALLOC"));
        Assert.Equal(0, code);
        Assert.Contains("freed tensor memory: kept for reuse", output);
    }

    [Fact]
    public void Opting_out_leaves_glibc_malloc_as_it_is()
    {
        var (_, output, _) = NtrainProcess.Run(["env"], TimeSpan.FromMinutes(1), start => start.Environment["NTRAIN_MALLOC"] = "system");
        Assert.Contains("freed tensor memory: returned to the kernel", output);
        Assert.Contains("missing reuse of freed tensor memory on this thread", output);
    }
}
