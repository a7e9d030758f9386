namespace NotebookTrainer.Models;

/// <summary>Resident memory of this process from /proc (Linux): what loading a model really costs.</summary>
public static class ProcessMemory
{
    /// <summary>Peak resident set size (VmHWM) in bytes since start or the last <see cref="ResetPeak"/>; null off Linux.</summary>
    public static long? PeakResidentBytes() => ReadStatus("VmHWM:");

    /// <summary>Current resident set size (VmRSS) in bytes; null off Linux.</summary>
    public static long? ResidentBytes() => ReadStatus("VmRSS:");

    /// <summary>Anonymous resident memory (RssAnon): tensors, not the page cache of memory-mapped files; null off Linux.</summary>
    public static long? AnonymousResidentBytes() => ReadStatus("RssAnon:");

    /// <summary>Starts a new peak measurement (writes 5 to /proc/self/clear_refs); false where the kernel does not allow it.</summary>
    public static bool ResetPeak()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    static long? ReadStatus(string field)
    {
        const string status = "/proc/self/status";
        if (!File.Exists(status)) return null;
        var line = File.ReadLines(status).FirstOrDefault(l => l.StartsWith(field, StringComparison.Ordinal));
        var kilobytes = line?[field.Length..].Trim().Split(' ')[0];
        return long.TryParse(kilobytes, out var kb) ? kb * 1024 : null;
    }
}
