using System.IO.Compression;
using NotebookTrainer.IO;

namespace NotebookTrainer.Npz;

/// <summary>Writes .npz files as <c>numpy.savez</c> does: a zip of uncompressed <c>NAME.npy</c> entries, replaced atomically.</summary>
public static class NpzWriter
{
    public static void Write(string path, IEnumerable<(string Name, NpyArray Array)> arrays)
    {
        var list = arrays.ToList();
        var duplicate = list.GroupBy(a => a.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new ArgumentException($"array name '{duplicate.Key}' given twice; .npz names must be unique.", nameof(arrays));
        AtomicFile.Write(path, stream =>
        {
            using var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
            foreach (var (name, array) in list)
            {
                using var entry = zip.CreateEntry(name + ".npy", CompressionLevel.NoCompression).Open();
                NpyFormat.Write(entry, array);
            }
        });
    }
}
