namespace NotebookTrainer.Datasets.FineTune;

/// <summary>
/// The images kohya's metadata scripts see (train_util.glob_images_pathlib): files in the folder, and in its subfolders
/// with recursive, ending in .png .jpg .jpeg .webp .bmp in lower or upper case (".Png" is not one), sorted as Python
/// sorts paths, component by component. Links to folders are not followed.
/// </summary>
public static class MetadataImages
{
    static readonly string[] Extensions = [".png", ".jpg", ".jpeg", ".webp", ".bmp", ".PNG", ".JPG", ".JPEG", ".WEBP", ".BMP"];

    public static IReadOnlyList<string> Find(string dir, bool recursive)
    {
        var root = Path.GetFullPath(dir);
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"{root}: no such folder; give the folder that holds the images.");
        var found = new List<string>();
        var folders = new Stack<string>([root]);
        while (folders.Count > 0)
        {
            var folder = folders.Pop();
            foreach (var entry in new DirectoryInfo(folder).EnumerateFileSystemInfos())
            {
                if (entry is DirectoryInfo sub)
                {
                    if (recursive && sub.LinkTarget is null) folders.Push(sub.FullName);
                }
                else if (Extensions.Any(e => entry.Name.EndsWith(e, StringComparison.Ordinal))) found.Add(entry.FullName);
            }
        }
        found.Sort((a, b) => ComparePythonPaths(Path.GetRelativePath(root, a), Path.GetRelativePath(root, b)));
        return found;
    }

    static int ComparePythonPaths(string a, string b)
    {
        var x = a.Split(Path.DirectorySeparatorChar);
        var y = b.Split(Path.DirectorySeparatorChar);
        for (var i = 0; i < Math.Min(x.Length, y.Length); i++)
            if (string.CompareOrdinal(x[i], y[i]) is var c and not 0) return c;
        return x.Length.CompareTo(y.Length);
    }
}
