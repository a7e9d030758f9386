using System.IO.Compression;
using NotebookTrainer.IO;

namespace NotebookTrainer.Npz;

/// <summary>
/// Reads a .npz (<c>numpy.savez</c> / <c>savez_compressed</c>): a zip whose <c>NAME.npy</c> entries are arrays, named
/// without the <c>.npy</c> as <c>numpy.load</c> names them. The file is untrusted: it must be a regular file within
/// <see cref="InputLimits.MaxNpzBytes"/>, and each array is checked against its declared shape before it is allocated.
/// </summary>
public sealed class NpzFile : IDisposable
{
    readonly ZipArchive zip;
    readonly Dictionary<string, ZipArchiveEntry> entries;
    readonly long maxBytes;

    NpzFile(string path, ZipArchive zip, Dictionary<string, ZipArchiveEntry> entries, long maxBytes)
    {
        Path = path;
        this.zip = zip;
        this.entries = entries;
        this.maxBytes = maxBytes;
    }

    public string Path { get; }
    public IReadOnlyCollection<string> Keys => entries.Keys;

    public static NpzFile Open(string path)
    {
        var maxBytes = InputLimits.Current.MaxNpzBytes;
        var stream = UntrustedFile.OpenRead(path, maxBytes, nameof(InputLimits.MaxNpzBytes));
        ZipArchive? zip = null;
        try
        {
            zip = new ZipArchive(stream, ZipArchiveMode.Read);
            _ = zip.Entries;   // the central directory is read here, and may be damaged
        }
        catch (InvalidDataException e)
        {
            zip?.Dispose();
            stream.Dispose();
            throw new InvalidDataException($"{path}: not a .npz file (not a readable zip: {Printable.Escape(e.Message)}); delete it and create it again.", e);
        }
        var entries = new Dictionary<string, ZipArchiveEntry>(StringComparer.Ordinal);
        foreach (var entry in zip.Entries)
        {
            if (!entry.FullName.EndsWith(".npy", StringComparison.Ordinal)) continue;
            if (!entries.TryAdd(entry.FullName[..^4], entry))
            {
                zip.Dispose();
                throw new InvalidDataException($"{path}: the array '{Printable.Escape(entry.FullName)}' appears twice; delete the file and create it again.");
            }
        }
        return new NpzFile(path, zip, entries, maxBytes);
    }

    public bool Contains(string key) => entries.ContainsKey(key);

    /// <summary>Element type and shape of one array, reading only its header.</summary>
    public (NpyDType DType, long[] Shape) Header(string key)
    {
        using var stream = OpenEntry(key);
        return NpyFormat.ReadHeader(stream, Where(key));
    }

    public NpyArray Read(string key)
    {
        using var stream = OpenEntry(key);
        return NpyFormat.Read(stream, Where(key), maxBytes);
    }

    Stream OpenEntry(string key)
    {
        if (!entries.TryGetValue(key, out var entry))
            throw new KeyNotFoundException($"{Path}: no array '{key}' (it has {string.Join(", ", entries.Keys.Order(StringComparer.Ordinal))}).");
        if (entry.Length > maxBytes)
            throw new InvalidDataException($"{Where(key)}: {entry.Length:N0} bytes unpacked, more than the {InputLimits.Describe(maxBytes, nameof(InputLimits.MaxNpzBytes))} allowed; refusing it.");
        try { return entry.Open(); }
        catch (InvalidDataException e) { throw new InvalidDataException($"{Where(key)}: cannot be unpacked ({Printable.Escape(e.Message)}); delete the file and create it again.", e); }
    }

    string Where(string key) => $"{Path}: {Printable.Escape(key)}.npy";

    public void Dispose() => zip.Dispose();
}
