using System.Diagnostics;

namespace NotebookTrainer.Tests;

/// <summary>The real ntrain executable (copied next to the tests) in a child process, as a user runs it.</summary>
static class NtrainProcess
{
    public static ProcessStartInfo StartInfo(IEnumerable<string> args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "ntrain.dll"));
        foreach (var a in args) start.ArgumentList.Add(a);
        return start;
    }

    /// <summary>Runs to the end and returns the exit code and both streams; fails the test if it outlives <paramref name="timeout"/>.</summary>
    public static (int ExitCode, string Stdout, string Stderr) Run(IEnumerable<string> args, TimeSpan timeout, Action<ProcessStartInfo>? configure = null)
    {
        var start = StartInfo(args);
        configure?.Invoke(start);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(timeout), $"ntrain did not finish in {timeout}");
        return (process.ExitCode, stdout, stderr.Result);
    }
}
