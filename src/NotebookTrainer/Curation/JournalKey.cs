using System.Security.Cryptography;

namespace NotebookTrainer.Curation;

/// <summary>
/// This user's secret for signing caption journals (HMAC-SHA256), so a journal that arrives inside a dataset (planted,
/// or copied from another machine) is recognised as foreign and never replayed. It lives outside every dataset, in
/// <c>$NTRAIN_DATA_DIR</c> or the user's data folder (<c>~/.local/share/ntrain/journal.key</c>), created once with
/// permissions 0600 in a 0700 folder.
/// </summary>
public static class JournalKey
{
    const string FileName = "journal.key";
    const int KeyBytes = 32;
    static readonly Lock gate = new();
    static (string Path, byte[] Key)? cached;

    /// <summary>Where the key is kept: $NTRAIN_DATA_DIR/journal.key, else the user's local data folder.</summary>
    public static string FilePath
    {
        get
        {
            var dir = Environment.GetEnvironmentVariable("NTRAIN_DATA_DIR") is { Length: > 0 } custom
                ? custom
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify), "ntrain");
            if (!Path.IsPathRooted(dir))
                throw new InvalidDataException("No per-user data folder to keep the journal key in: set HOME, or NTRAIN_DATA_DIR to a private folder.");
            return Path.Combine(dir, FileName);
        }
    }

    /// <summary>The key, created on first use.</summary>
    public static byte[] Get()
    {
        var path = FilePath;
        lock (gate)
        {
            if (cached is { } c && c.Path == path) return c.Key;
            var key = File.Exists(path) ? Read(path) : Create(path);
            cached = (path, key);
            return key;
        }
    }

    public static string Sign(string text) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Get(), System.Text.Encoding.UTF8.GetBytes(text)));

    static byte[] Read(string path)
    {
        var key = File.ReadAllBytes(path);
        if (key.Length != KeyBytes)
            throw new InvalidDataException($"{path}: the journal key is {key.Length} bytes, not {KeyBytes}. Move the file aside; a new key is made (journals signed with the old one are then set aside as foreign).");
        return key;
    }

    static byte[] Create(string path)
    {
        var dir = Path.GetDirectoryName(path)!;
        if (OperatingSystem.IsWindows()) Directory.CreateDirectory(dir);
        else Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var key = RandomNumberGenerator.GetBytes(KeyBytes);
        var tmp = IO.AtomicFile.TemporaryName(path);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var stream = new FileStream(tmp, options))
        {
            stream.Write(key);
            stream.Flush(flushToDisk: true);
        }
        try
        {
            File.Move(tmp, path, overwrite: false);
            return key;
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another process made the key first: use theirs.
            File.Delete(tmp);
            return Read(path);
        }
    }
}
