using System.Text.Json;

namespace NotebookTrainer.Curation;

/// <summary>A set of files moved to the trash together, with where each came from.</summary>
public sealed record TrashBatch(string Directory, IReadOnlyList<TrashedFile> Files);
public sealed record TrashedFile(string OriginalPath, string TrashPath);

/// <summary>
/// Nothing is deleted: "removing" an image moves it and its sidecar files (captions, same stem) into
/// <c>&lt;folder&gt;/.trash/&lt;timestamp&gt;/</c> with a manifest, from where <see cref="Restore"/> puts them back.
/// </summary>
public static class Trash
{
    public const string FolderName = ".trash";
    const string ManifestName = "manifest.json";

    public static TrashBatch Move(string folder, IEnumerable<string> images)
    {
        var root = Path.GetFullPath(folder);
        var batchDir = Path.Combine(root, FolderName, DateTime.UtcNow.ToString("yyyyMMdd-HHmmss-fff") + "-" + Guid.NewGuid().ToString("N")[..6]);
        Directory.CreateDirectory(batchDir);
        var moved = new List<TrashedFile>();
        foreach (var image in images.Select(Path.GetFullPath).Distinct())
        {
            if (!File.Exists(image)) throw new FileNotFoundException($"{image}: not found; nothing was moved for it.", image);
            var stem = Path.GetFileNameWithoutExtension(image);
            var dir = Path.GetDirectoryName(image)!;
            var sidecars = Directory.EnumerateFiles(dir, stem + ".*").Where(p => Path.GetFileNameWithoutExtension(p) == stem);
            foreach (var file in sidecars.Prepend(image).Distinct())
            {
                var target = Path.Combine(batchDir, Path.GetRelativePath(root, file));
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Move(file, target);
                moved.Add(new TrashedFile(file, target));
                IO.AtomicFile.WriteAllText(Path.Combine(batchDir, ManifestName), JsonSerializer.Serialize(moved));
            }
        }
        return new TrashBatch(batchDir, moved);
    }

    /// <summary>
    /// Moves a batch's files back; refuses to overwrite a file that has reappeared at the original path. The manifest
    /// is untrusted (a .trash folder can come with a dataset): every path must lie inside the curated folder.
    /// </summary>
    public static IReadOnlyList<string> Restore(string batchDirectory)
    {
        var batch = Path.GetFullPath(batchDirectory);
        var root = Path.GetDirectoryName(Path.GetDirectoryName(batch)!)!;
        var manifest = Path.Combine(batch, ManifestName);
        if (!File.Exists(manifest)) throw new FileNotFoundException($"{manifest}: not found; is {batchDirectory} a trash batch folder?", manifest);
        List<TrashedFile?>? listed;
        try { listed = JsonSerializer.Deserialize<List<TrashedFile?>>(IO.UntrustedFile.ReadAllText(manifest, IO.InputLimits.Current.MaxConfigBytes, nameof(IO.InputLimits.MaxConfigBytes))); }
        catch (JsonException e) { throw new InvalidDataException($"{manifest}: not a trash manifest ({e.Message})."); }
        var files = (listed ?? []).Select(f => f is { OriginalPath: not null, TrashPath: not null } ? f : throw new InvalidDataException($"{manifest}: an entry without its paths.")).ToList();
        foreach (var f in files)
        {
            IO.UntrustedFile.Confine(root, f.OriginalPath);
            IO.UntrustedFile.Confine(batch, f.TrashPath);
        }
        foreach (var f in files)
            if (File.Exists(f.OriginalPath))
                throw new IOException($"{f.OriginalPath} exists again; move it away before restoring {f.TrashPath}.");
        foreach (var f in files) File.Move(f.TrashPath, f.OriginalPath);
        Directory.Delete(batchDirectory, recursive: true);
        return files.Select(f => f.OriginalPath).ToList();
    }
}
