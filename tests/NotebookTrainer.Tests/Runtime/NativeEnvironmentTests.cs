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
        Assert.Equal(Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") ?? "PASSIVE", native);
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
