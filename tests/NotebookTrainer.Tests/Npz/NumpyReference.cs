using System.Diagnostics;

namespace NotebookTrainer.Tests.Npz;

/// <summary>Runs Debian's python3-numpy as a child process: the reference our .npz files must satisfy, and a writer of real numpy files.</summary>
static class NumpyReference
{
    const string Python = "/usr/bin/python3";
    const string Missing = "python3-numpy is needed to check .npz files against the real numpy: run .ci/run, or apt-get install -y python3-numpy.";

    /// <summary>Runs <paramref name="script"/> (numpy imported as np) with the arguments in sys.argv[1:]; returns stdout, fails the test on a missing numpy or a non-zero exit.</summary>
    public static string Run(string script, params string[] arguments)
    {
        Assert.True(File.Exists(Python), $"{Python} is missing. {Missing}");
        var psi = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in (string[])["-c", "import sys, numpy as np\n" + script, .. arguments]) psi.ArgumentList.Add(argument);
        using var process = Process.Start(psi)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.False(stderr.Result.Contains("No module named 'numpy'", StringComparison.Ordinal), Missing);
        Assert.True(process.ExitCode == 0, $"the numpy script failed: {stderr.Result}");
        return stdout;
    }
}
