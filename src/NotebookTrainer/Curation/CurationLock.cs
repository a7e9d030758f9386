using System.Diagnostics;

namespace NotebookTrainer.Curation;

/// <summary>
/// Keeps a second curation session (another notebook, CLI or pruning page) off a folder: an exclusive OS lock on
/// <c>.ntrain/curation.lock</c>, released when the holder exits or crashes, plus a note of who holds it.
/// </summary>
public sealed class CurationLock : IDisposable
{
    const string LockName = ".ntrain/curation.lock";
    const string OwnerName = ".ntrain/curation.owner";
    readonly FileStream stream;
    readonly string ownerPath;

    CurationLock(FileStream stream, string ownerPath)
    {
        this.stream = stream;
        this.ownerPath = ownerPath;
    }

    public static CurationLock Acquire(string folder, string holder)
    {
        // A .ntrain that came with the folder may be a link out of it: the lock and note go only inside.
        var lockPath = IO.UntrustedFile.Confine(folder, LockName);
        var ownerPath = IO.UntrustedFile.Confine(folder, OwnerName);
        Directory.CreateDirectory(Path.GetDirectoryName(lockPath)!);
        FileStream stream;
        try
        {
            // FileShare.None takes an exclusive flock on Unix and a sharing lock on Windows; the OS drops it with the process.
            stream = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            var owner = ReadOwner(ownerPath);
            throw new CurationLockedException(
                $"{folder} is already being curated by {owner}. Close that session first (stop its pruning page or let the command finish); " +
                $"two sessions on one folder would overwrite each other's caption edits.");
        }
        IO.AtomicFile.WriteAllText(ownerPath, $"{holder} (process {Environment.ProcessId} on {Environment.MachineName}, since {DateTimeOffset.UtcNow:u})\n");
        return new CurationLock(stream, ownerPath);
    }

    static string ReadOwner(string ownerPath)
    {
        try { return IO.Printable.Escape(IO.UntrustedFile.ReadAllText(ownerPath, 4096, nameof(IO.InputLimits.MaxCaptionBytes)).Trim()); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return "another process"; }
    }

    public void Dispose()
    {
        try { File.Delete(ownerPath); } catch (IOException) { }
        stream.Dispose();
    }
}

public sealed class CurationLockedException(string message) : Exception(message);
