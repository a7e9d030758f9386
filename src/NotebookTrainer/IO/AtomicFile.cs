namespace NotebookTrainer.IO;

/// <summary>
/// Writes files so that a reader (or a crash) sees either the old content or the new, never a half file:
/// write to a temporary file in the same folder, flush to disk, then rename over the target.
/// </summary>
public static class AtomicFile
{
    public static void WriteAllText(string path, string contents) =>
        Write(path, stream => { using var w = new StreamWriter(stream, new System.Text.UTF8Encoding(false), leaveOpen: true); w.Write(contents); });

    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        var copy = bytes.ToArray();
        Write(path, stream => stream.Write(copy));
    }

    public static void Write(string path, Action<Stream> write)
    {
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        var tmp = TemporaryName(full);
        try
        {
            using (var stream = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }

    /// <summary>
    /// Builds a folder under a temporary name beside <paramref name="path"/> (<paramref name="write"/> gets that name)
    /// and renames it into place; an existing folder is moved aside first and deleted after, so a crash leaves the old
    /// folder or the new one, never half of one (<see cref="RecoverLeftovers"/> restores a moved-aside one). Returns the
    /// full path.
    /// </summary>
    public static string WriteDirectory(string path, Action<string> write)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var temp = TemporaryName(full);
        try
        {
            write(temp);
            string? old = null;
            if (Directory.Exists(full))
            {
                old = TemporaryName(full, "old");
                Directory.Move(full, old);
            }
            Directory.Move(temp, full);
            if (old is not null) Directory.Delete(old, recursive: true);
            return full;
        }
        finally
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        }
    }

    /// <summary>
    /// Removes what a killed writer left in <paramref name="dir"/>: temporary files and folders named
    /// <c>.{name}.{pid}.{guid}.tmp</c> whose process is gone. A <c>.{name}.{pid}.{guid}.old</c> folder (a replaced
    /// save_state folder, killed between the two renames) is renamed back when its target is missing. Returns one
    /// line per thing done.
    /// </summary>
    public static IReadOnlyList<string> RecoverLeftovers(string dir)
    {
        var done = new List<string>();
        if (!Directory.Exists(dir)) return done;
        foreach (var entry in Directory.EnumerateFileSystemEntries(dir, ".*").ToList())
        {
            var name = Path.GetFileName(entry);
            var parts = name.Split('.');
            // "", target name (may contain dots), pid, guid, "tmp" | "old"
            if (parts.Length < 5 || parts[^1] is not ("tmp" or "old") || !int.TryParse(parts[^3], out var pid) || ProcessIsAlive(pid)) continue;
            var target = Path.Combine(dir, string.Join('.', parts[1..^3]));
            if (parts[^1] == "old" && !Path.Exists(target))
            {
                Directory.Move(entry, target);
                done.Add($"restored {Path.GetFileName(target)} (a save was killed while replacing it)");
            }
            else
            {
                if (Directory.Exists(entry)) Directory.Delete(entry, recursive: true);
                else File.Delete(entry);
                done.Add($"removed {name}, left by a killed process {pid}");
            }
        }
        return done;
    }

    /// <summary>The temporary name <see cref="RecoverLeftovers"/> recognises.</summary>
    public static string TemporaryName(string path, string kind = "tmp") =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, $".{Path.GetFileName(path)}.{Environment.ProcessId}.{Guid.NewGuid():N}.{kind}");

    static bool ProcessIsAlive(int pid)
    {
        if (pid == Environment.ProcessId) return true;
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
