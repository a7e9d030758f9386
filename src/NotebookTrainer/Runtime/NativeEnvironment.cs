using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace NotebookTrainer.Runtime;

/// <summary>
/// Settings libtorch's OpenMP runtime reads once, when it loads. With the default (active) wait policy, idle
/// OpenMP threads spin; on a small or shared machine (2 cores, a build beside the training) that made a tiny
/// U-Net forward take seconds instead of tens of milliseconds. We ask for the passive policy unless the user
/// set one. .NET's Environment.SetEnvironmentVariable does not reach native getenv on Unix, so this calls libc,
/// from a module initializer so it runs before any torch call in this library, a notebook or a test.
/// </summary>
static class NativeEnvironment
{
    [ModuleInitializer]
    internal static void Initialize()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return;
        if (Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") is null)
            setenv("OMP_WAIT_POLICY", "PASSIVE", 0);
    }

    [DllImport("libc", SetLastError = true)]
    static extern int setenv(string name, string value, int overwrite);
}
