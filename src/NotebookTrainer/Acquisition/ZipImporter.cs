using System.IO.Compression;
using NotebookTrainer.Display;
using NotebookTrainer.IO;

namespace NotebookTrainer.Acquisition;

public sealed record ZipImportReport(string Destination, IReadOnlyList<string> Extracted, IReadOnlyList<(string Entry, string Reason)> Skipped, long Bytes) : IHtmlRenderable
{
    public string ToHtml() =>
        $"<p>Extracted {Extracted.Count} files ({Bytes / 1048576.0:0.0} MiB) into <code>{Html.Escape(Destination)}</code>; skipped {Skipped.Count}.</p>" +
        (Skipped.Count == 0 ? "" : Html.Table(new[] { "skipped entry", "why" }, Skipped.Take(200).Select(s => new object?[] { s.Entry, s.Reason })));
}

/// <summary>
/// Unpacks a dataset zip safely: only images and caption/metadata files, no absolute paths, no "..", no links (in the
/// zip, or already in the destination), no control characters, no names that collide (also by case, or a file where
/// a folder is needed). Sizes are checked twice against <see cref="InputLimits"/>: the declared sizes and compression
/// ratios before anything is written, then the bytes actually unpacked (a zip bomb's declared sizes can lie), with each
/// entry's length and CRC-32 compared to what the zip declares. Every file is unpacked under a temporary name first and
/// renamed into place only when the whole zip was read, so a refused or cancelled import leaves nothing behind.
/// Folder structure inside the zip is kept, so kohya's <c>10_name</c> folders survive.
/// </summary>
public static class ZipImporter
{
    static readonly HashSet<string> Kept = new([.. Images.ImageExtensions.All, ".txt", ".caption", ".json", ".jsonl", ".toml"], StringComparer.OrdinalIgnoreCase);
    const long RatioCheckedAbove = 1L << 20;
    const int MaxNameBytes = 200;   // leaves room for the temporary name's suffix within the usual 255

    public static ZipImportReport Extract(string zipPath, string destination, InputLimits? limits = null, CancellationToken cancellation = default)
    {
        limits ??= InputLimits.Current;
        var root = Path.GetFullPath(destination);
        if (File.Exists(root) || UntrustedFile.KindOf(root) is not (FileKind.Missing or FileKind.Directory or FileKind.SymbolicLink))
            throw new InvalidDataException($"{root}: exists and is not a folder; give --out a new or existing folder.");

        using var stream = UntrustedFile.OpenRead(zipPath, long.MaxValue, nameof(InputLimits.MaxZipTotalBytes));
        ZipArchive archive;
        try
        {
            archive = new ZipArchive(stream, ZipArchiveMode.Read);
            _ = archive.Entries;   // the central directory is read here, and may be damaged
        }
        catch (InvalidDataException e) { throw new InvalidDataException($"{zipPath}: not a readable zip file ({Printable.Escape(e.Message)}). Re-download it or re-create it with a standard zip tool.", e); }
        using (archive)
        {
            if (archive.Entries.Count > limits.MaxZipEntries)
                throw new InvalidDataException($"{zipPath}: {archive.Entries.Count:N0} entries, more than the {limits.MaxZipEntries:N0} allowed ({InputLimits.VariableFor(nameof(InputLimits.MaxZipEntries))}).");
            Directory.CreateDirectory(root);
            var (plan, skipped) = Plan(zipPath, archive, root, limits);
            var staged = new List<(string Temporary, string Target)>();
            var createdFolders = new List<string>();
            try
            {
                long total = 0;
                foreach (var (entry, target) in plan)
                {
                    cancellation.ThrowIfCancellationRequested();
                    CreateFolders(root, Path.GetDirectoryName(target)!, createdFolders);
                    var temporary = AtomicFile.TemporaryName(target);
                    staged.Add((temporary, target));
                    try { total += Unpack(zipPath, entry, temporary, total, limits); }
                    catch (Exception e) when (e is InvalidDataException or NotSupportedException or IOException && !e.Message.StartsWith(zipPath, StringComparison.Ordinal))
                    {
                        throw new InvalidDataException($"{zipPath}: '{Printable.Escape(entry.FullName)}' cannot be unpacked ({Printable.Escape(e.Message)}); the zip is damaged. Nothing was extracted.", e);
                    }
                }
                foreach (var (temporary, target) in staged) File.Move(temporary, target, overwrite: true);
                return new ZipImportReport(root, plan.Select(p => p.Target).ToList(), skipped, total);
            }
            catch
            {
                foreach (var (temporary, _) in staged) File.Delete(temporary);
                for (var i = createdFolders.Count - 1; i >= 0; i--)
                    if (!Directory.EnumerateFileSystemEntries(createdFolders[i]).Any()) Directory.Delete(createdFolders[i]);
                throw;
            }
        }
    }

    /// <summary>The entries to unpack with their targets, and the ones skipped with why; refuses the zip if its declared sizes are over the limits.</summary>
    static (List<(ZipArchiveEntry Entry, string Target)> Plan, List<(string, string)> Skipped) Plan(string zipPath, ZipArchive archive, string root, InputLimits limits)
    {
        var plan = new List<(ZipArchiveEntry, string)>();
        var skipped = new List<(string, string)>();
        var files = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var folders = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        long declared = 0;
        foreach (var entry in archive.Entries)
        {
            var shown = Printable.Escape(entry.FullName);
            if (entry.FullName.EndsWith('/')) continue;
            if (Rejection(entry, root, limits) is { } reason) { skipped.Add((shown, reason)); continue; }
            var relative = entry.FullName.Replace('\\', '/');
            var target = Path.GetFullPath(Path.Combine(root, relative));
            var key = Path.GetRelativePath(root, target);
            if (files.TryGetValue(key, out var first)) { skipped.Add((shown, $"same name as '{Printable.Escape(first)}' (names differing only in case are one file on many systems)")); continue; }
            if (folders.Contains(key)) { skipped.Add((shown, "a folder of the same name holds other entries")); continue; }
            var parents = Parents(key).ToList();
            if (parents.FirstOrDefault(files.ContainsKey) is { } clash) { skipped.Add((shown, $"'{Printable.Escape(files[clash])}' is a file, so it cannot also be a folder")); continue; }
            if (Directory.Exists(target)) { skipped.Add((shown, "a folder of that name already exists in the destination")); continue; }
            try { UntrustedFile.Confine(root, relative); }
            catch (UntrustedFileException) { skipped.Add((shown, "a symbolic link in the destination leads outside it")); continue; }
            files[key] = entry.FullName;
            folders.UnionWith(parents);
            declared += entry.Length;
            plan.Add((entry, target));
        }
        if (declared > limits.MaxZipTotalBytes)
            throw new InvalidDataException($"{zipPath}: its files declare {declared:N0} bytes unpacked, more than the {InputLimits.Describe(limits.MaxZipTotalBytes, nameof(InputLimits.MaxZipTotalBytes))} allowed; it looks like a zip bomb (or raise the limit). Nothing was extracted.");
        return (plan, skipped);
    }

    static IEnumerable<string> Parents(string relative)
    {
        for (var dir = Path.GetDirectoryName(relative); !string.IsNullOrEmpty(dir); dir = Path.GetDirectoryName(dir)) yield return dir;
    }

    static string? Rejection(ZipArchiveEntry entry, string root, InputLimits limits)
    {
        var name = entry.FullName.Replace('\\', '/');
        if (name.Any(char.IsControl))
            return "the name holds a control character (NUL, newline, escape)";
        if (name.StartsWith('/') || (name.Length > 1 && name[1] == ':'))
            return "absolute path";
        var parts = name.Split('/');
        if (parts.Any(part => part == ".."))
            return "path leaves the destination (..)";
        if (parts.Any(part => System.Text.Encoding.UTF8.GetByteCount(part) > MaxNameBytes))
            return $"a name in the path is longer than {MaxNameBytes} bytes";
        const int unixTypeMask = 0xF000 << 16, unixSymlink = 0xA000 << 16;
        if ((entry.ExternalAttributes & unixTypeMask) == unixSymlink)
            return "symbolic link";
        var target = Path.GetFullPath(Path.Combine(root, name));
        if (!UntrustedFile.IsInside(root, target))
            return "path leaves the destination";
        if (!Kept.Contains(Path.GetExtension(entry.Name)))
            return "not an image or caption file";
        if (entry.Length > limits.MaxZipEntryBytes)
            return $"declares {entry.Length:N0} bytes, more than the {InputLimits.Describe(limits.MaxZipEntryBytes, nameof(InputLimits.MaxZipEntryBytes))} allowed per file";
        if (entry.Length > RatioCheckedAbove && entry.Length > (long)limits.MaxZipCompressionRatio * Math.Max(1, entry.CompressedLength))
            return $"compressed {entry.Length / Math.Max(1, entry.CompressedLength):N0}:1, more than the {limits.MaxZipCompressionRatio}:1 ({InputLimits.VariableFor(nameof(InputLimits.MaxZipCompressionRatio))}) real images and captions reach; it looks like a zip bomb";
        return null;
    }

    static void CreateFolders(string root, string folder, List<string> created)
    {
        var missing = new Stack<string>();
        for (var dir = folder; dir != root && !Directory.Exists(dir); dir = Path.GetDirectoryName(dir)!) missing.Push(dir);
        foreach (var dir in missing)
        {
            Directory.CreateDirectory(dir);
            created.Add(dir);
        }
    }

    /// <summary>Unpacks one entry, counting real bytes; returns how many were written.</summary>
    static long Unpack(string zipPath, ZipArchiveEntry entry, string temporary, long totalSoFar, InputLimits limits)
    {
        var name = Printable.Escape(entry.FullName);
        long written = 0;
        var crc = new Crc32();
        using (var input = entry.Open())
        using (var output = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
        {
            var buffer = new byte[1 << 16];
            int n;
            while ((n = input.Read(buffer)) > 0)
            {
                written += n;
                if (written > entry.Length || written > limits.MaxZipEntryBytes || totalSoFar + written > limits.MaxZipTotalBytes)
                    throw new InvalidDataException($"{zipPath}: '{name}' expands beyond {(written > entry.Length ? $"the {entry.Length:N0} bytes it declares" : "the size limits")} ({InputLimits.Describe(limits.MaxZipEntryBytes, nameof(InputLimits.MaxZipEntryBytes))} per file, {InputLimits.FormatBytes(limits.MaxZipTotalBytes)} in all); it looks like a zip bomb. Nothing was extracted.");
                crc.Append(buffer.AsSpan(0, n));
                output.Write(buffer, 0, n);
            }
        }
        if (written != entry.Length || crc.Value != entry.Crc32)
            throw new InvalidDataException($"{zipPath}: '{name}' does not unpack to what the zip declares ({entry.Length:N0} bytes, CRC {entry.Crc32:x8}; got {written:N0} bytes, CRC {crc.Value:x8}): the entry is damaged, or holds more data than it declares. Nothing was extracted.");
        return written;
    }
}
