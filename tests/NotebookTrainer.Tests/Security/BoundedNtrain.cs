using System.Diagnostics;

namespace NotebookTrainer.Tests.Security;

/// <summary>What one bounded ntrain run did: exit code (null when it had to be killed), output and peak resident memory.</summary>
sealed record BoundedRun(int? ExitCode, string Stdout, string Stderr, long PeakResidentBytes, TimeSpan Elapsed)
{
    public bool TimedOut => ExitCode is null;
    public override string ToString() => $"exit {ExitCode?.ToString() ?? "none (killed)"} after {Elapsed.TotalSeconds:0.0}s, peak RSS {PeakResidentBytes >> 20} MiB\nstdout: {Stdout}\nstderr: {Stderr}";
}

/// <summary>
/// Runs the real ntrain in a child process that cannot hang the test run: killed after a timeout, its peak resident set
/// size (VmHWM) sampled from /proc while it runs.
/// </summary>
static class BoundedNtrain
{
    public static BoundedRun Run(IEnumerable<string> args, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = NtrainProcess.StartInfo(args);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        long peak = 0;
        var status = $"/proc/{process.Id}/status";
        while (!process.WaitForExit(10))
        {
            peak = Math.Max(peak, PeakOf(status));
            if (clock.Elapsed > timeout)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
                return new BoundedRun(null, stdout.Result, stderr.Result, peak, clock.Elapsed);
            }
        }
        process.WaitForExit();
        return new BoundedRun(process.ExitCode, stdout.Result, stderr.Result, peak, clock.Elapsed);
    }

    static long PeakOf(string status)
    {
        try
        {
            foreach (var line in File.ReadLines(status))
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    return long.Parse(line[6..].Trim().Split(' ')[0]) * 1024;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }   // exited between two samples
        return 0;
    }
}
