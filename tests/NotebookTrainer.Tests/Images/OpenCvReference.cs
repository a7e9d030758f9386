using System.Diagnostics;

namespace NotebookTrainer.Tests.Images;

/// <summary>Runs Debian's python3-opencv as a child process: the reference our cv2 re-implementations must equal.</summary>
static class OpenCvReference
{
    const string Python = "/usr/bin/python3";
    const string Missing = "python3-opencv is needed to compare against the real cv2: run .ci/run, or apt-get install -y python3-opencv.";

    /// <summary>Runs <paramref name="script"/> with the arguments; returns stdout, fails the test on a missing cv2 or a non-zero exit.</summary>
    public static string Run(string script, params string[] arguments)
    {
        Assert.True(File.Exists(Python), $"{Python} is missing. {Missing}");
        var probe = Start("-c", "import cv2; print(cv2.__version__)");
        Assert.True(probe.ExitCode == 0, $"cv2 does not import in {Python} ({probe.Stderr.Trim()}). {Missing}");

        var run = Start(["-c", script, .. arguments]);
        Assert.True(run.ExitCode == 0, $"the cv2 reference script failed (OpenCV {probe.Stdout.Trim()}): {run.Stderr}");
        return run.Stdout;
    }

    static (int ExitCode, string Stdout, string Stderr) Start(params string[] arguments)
    {
        var psi = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments) psi.ArgumentList.Add(argument);
        using var process = Process.Start(psi)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout, stderr.Result);
    }
}
