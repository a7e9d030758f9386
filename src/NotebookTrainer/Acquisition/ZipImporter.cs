using System.IO.Compression;
using NotebookTrainer.Display;

namespace NotebookTrainer.Acquisition;

public sealed record ZipImportLimits
{
    public long MaxTotalBytes { get; init; } = 8L << 30;
    public long MaxEntryBytes { get; init; } = 512L << 20;
    public int MaxEntries { get; init; } = 100_000;
}

public sealed record ZipImportReport(string Destination, IReadOnlyList<string> Extracted, IReadOnlyList<(string Entry, string Reason)> Skipped, long Bytes) : IHtmlRenderable
{
    public string ToHtml() =>
        $"<p>Extracted {Extracted.Count} files ({Bytes / 1048576.0:0.0} MiB) into <code>{Html.Escape(Destination)}</code>; skipped {Skipped.Count}.</p>" +
        (Skipped.Count == 0 ? "" : Html.Table(new[] { "skipped entry", "why" }, Skipped.Take(200).Select(s => new object?[] { s.Entry, s.Reason })));
}

/// <summary>
/// Unpacks a dataset zip safely: only images and caption/metadata files, no absolute paths, no "..", no links,
/// and limits on entry count and on the bytes actually written (a zip bomb's declared sizes can lie).
/// Folder structure inside the zip is kept, so kohya's <c>10_name</c> folders survive.
/// </summary>
public static class ZipImporter
{
    static readonly HashSet<string> Kept = new(StringComparer.OrdinalIgnoreCase) { ".png", ".jpg", ".jpeg", ".webp", ".bmp", ".txt", ".caption", ".json", ".jsonl", ".toml" };

    public static ZipImportReport Extract(string zipPath, string destination, ZipImportLimits? limits = null, CancellationToken cancellation = default)
    {
        limits ??= new ZipImportLimits();
        var root = Path.GetFullPath(destination);
        Directory.CreateDirectory(root);
        var extracted = new List<string>();
        var skipped = new List<(string, string)>();
        long total = 0;

        ZipArchive archive;
        try { archive = ZipFile.OpenRead(zipPath); }
        catch (InvalidDataException e) { throw new InvalidDataException($"{zipPath}: not a readable zip file ({e.Message}). Re-download it or re-create it with a standard zip tool.", e); }
        using (archive)
        {
            if (archive.Entries.Count > limits.MaxEntries)
                throw new InvalidDataException($"{zipPath}: {archive.Entries.Count:N0} entries, more than the {limits.MaxEntries:N0} allowed.");
            foreach (var entry in archive.Entries)
            {
                cancellation.ThrowIfCancellationRequested();
                if (entry.FullName.EndsWith('/')) continue;
                if (Rejection(entry, root) is { } reason) { skipped.Add((entry.FullName, reason)); continue; }
                if (!Kept.Contains(Path.GetExtension(entry.Name))) { skipped.Add((entry.FullName, "not an image or caption file")); continue; }
                if (entry.Length > limits.MaxEntryBytes) { skipped.Add((entry.FullName, $"larger than {limits.MaxEntryBytes:N0} bytes")); continue; }

                var target = Path.GetFullPath(Path.Combine(root, entry.FullName));
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                var tmp = target + ".part";
                long written = 0;
                using (var input = entry.Open())
                using (var output = File.Create(tmp))
                {
                    var buffer = new byte[1 << 16];
                    int n;
                    while ((n = input.Read(buffer)) > 0)
                    {
                        written += n;
                        if (written > limits.MaxEntryBytes || total + written > limits.MaxTotalBytes)
                        {
                            output.Close();
                            File.Delete(tmp);
                            throw new InvalidDataException($"{zipPath}: '{entry.FullName}' expands beyond the size limits ({limits.MaxEntryBytes:N0} bytes per file, {limits.MaxTotalBytes:N0} in all); it looks like a zip bomb. Nothing after it was extracted.");
                        }
                        output.Write(buffer, 0, n);
                    }
                }
                File.Move(tmp, target, overwrite: true);
                total += written;
                extracted.Add(target);
            }
        }
        return new ZipImportReport(root, extracted, skipped, total);
    }

    static string? Rejection(ZipArchiveEntry entry, string root)
    {
        var name = entry.FullName.Replace('\\', '/');
        if (name.StartsWith('/') || (name.Length > 1 && name[1] == ':'))
            return "absolute path";
        if (name.Split('/').Any(part => part == ".."))
            return "path leaves the destination (..)";
        const int unixTypeMask = 0xF000 << 16, unixSymlink = 0xA000 << 16;
        if ((entry.ExternalAttributes & unixTypeMask) == unixSymlink)
            return "symbolic link";
        var target = Path.GetFullPath(Path.Combine(root, name));
        if (!target.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            return "path leaves the destination";
        return null;
    }
}
