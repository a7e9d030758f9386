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
}
