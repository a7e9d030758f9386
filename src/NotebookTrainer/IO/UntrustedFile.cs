using System.Text;
using Microsoft.Win32.SafeHandles;

namespace NotebookTrainer.IO;

/// <summary>A file in a dataset, journal, zip or model that is refused: not a regular file, too large, or outside its folder.</summary>
public sealed class UntrustedFileException(string path, string message) : IOException(message)
{
    public string Path { get; } = path;

    /// <summary>The message without the leading path, for reports that show the file in a column of its own.</summary>
    public string Reason => Message.StartsWith(Path + ": ", StringComparison.Ordinal) ? Message[(Path.Length + 2)..] : Message;
}

/// <summary>
/// The one way to open a file that someone else made (anything in a dataset folder, a zip, a journal, a downloaded
/// model). Only regular files are read: a FIFO, device, socket or folder named like an image or caption is refused
/// without blocking on it (it is opened non-blocking and checked on the open handle, so nothing can swap it in between).
/// Sizes are capped by <see cref="InputLimits"/>. With a root, the file, symbolic links resolved, must lie inside it.
/// </summary>
public static class UntrustedFile
{
    /// <summary>Opens <paramref name="path"/> for reading; <paramref name="limit"/> names the <see cref="InputLimits"/> property behind <paramref name="maxBytes"/>.</summary>
    public static FileStream OpenRead(string path, long maxBytes, string limit, string? root = null)
    {
        if (root is not null) Confine(root, path);
        var stream = Open(path);
        try
        {
            if (stream.Length > maxBytes)
                throw new UntrustedFileException(path, $"{path}: {stream.Length:N0} bytes, more than the {InputLimits.Describe(maxBytes, limit)} allowed for this kind of file; remove it, or raise the limit if the file is genuine.");
            return stream;
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    public static byte[] ReadAllBytes(string path, long maxBytes, string limit, string? root = null)
    {
        using var stream = OpenRead(path, maxBytes, limit, root);
        // The length was checked on the open handle; reading stops there even if the file grows meanwhile.
        var bytes = new byte[stream.Length];
        var read = stream.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false);
        return read == bytes.Length ? bytes : bytes[..read];
    }

    /// <summary>UTF-8 text (a leading BOM dropped, invalid bytes replaced), as File.ReadAllText reads it.</summary>
    public static string ReadAllText(string path, long maxBytes, string limit, string? root = null)
    {
        var bytes = ReadAllBytes(path, maxBytes, limit, root);
        var start = bytes.AsSpan().StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) ? 3 : 0;
        return Encoding.UTF8.GetString(bytes, start, bytes.Length - start);
    }

    /// <summary>
    /// The full path of <paramref name="path"/> (relative to <paramref name="root"/>, or absolute) after checking that it
    /// stays inside <paramref name="root"/> with every symbolic link on the way resolved. A missing file is allowed
    /// (it may be about to be written); the folders that exist on its way are resolved.
    /// </summary>
    public static string Confine(string root, string path)
    {
        if (path.Length == 0 || path.Contains('\0'))
            throw new UntrustedFileException(path, $"{root}: the path '{Printable.Escape(path)}' is empty or holds a NUL character; refusing it.");
        var rootFull = System.IO.Path.TrimEndingDirectorySeparator(System.IO.Path.GetFullPath(root));
        var full = System.IO.Path.GetFullPath(System.IO.Path.Combine(rootFull, path));
        if (!IsInside(rootFull, full))
            throw new UntrustedFileException(path, $"{rootFull}: the path '{Printable.Escape(path)}' leads outside this folder; refusing it.");
        var realRoot = RealPath(rootFull);
        var realTarget = RealPath(full);
        if (!IsInside(realRoot, realTarget) && realTarget != realRoot)
            throw new UntrustedFileException(path, $"{full}: a symbolic link on the way leads to {realTarget}, outside {rootFull}; refusing it. Replace the link with the real file or folder.");
        return full;
    }

    /// <summary>True when <paramref name="path"/> (a full path) is strictly below <paramref name="root"/>.</summary>
    public static bool IsInside(string root, string path)
    {
        var r = System.IO.Path.TrimEndingDirectorySeparator(root);
        return path.Length > r.Length + 1 && path.StartsWith(r, StringComparison.Ordinal) && path[r.Length] == System.IO.Path.DirectorySeparatorChar;
    }

    /// <summary>The path with every symbolic link resolved; the part that does not exist yet is appended as written.</summary>
    public static string RealPath(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        var missing = new Stack<string>();
        var existing = full;
        while (true)
        {
            if (UnixFile.RealPath(existing) is { } real)
            {
                foreach (var part in missing) real = System.IO.Path.Combine(real, part);
                return real;
            }
            var parent = System.IO.Path.GetDirectoryName(existing);
            if (parent is null) return full;
            missing.Push(System.IO.Path.GetFileName(existing));
            existing = parent;
        }
    }

    /// <summary>What is at <paramref name="path"/> without following a final symbolic link.</summary>
    public static FileKind KindOf(string path) => UnixFile.Kind(path, followLinks: false);

    static FileStream Open(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            if (Directory.Exists(path)) throw NotRegular(path, FileKind.Directory);
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        }
        var handle = UnixFile.OpenNonBlocking(path);
        try
        {
            var kind = UnixFile.Kind(handle);
            if (kind != FileKind.Regular) throw NotRegular(path, kind);
            UnixFile.ClearNonBlocking(handle);
            return new FileStream(handle, FileAccess.Read, 1 << 16);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    static UntrustedFileException NotRegular(string path, FileKind kind) => new(path,
        $"{path}: is {Describe(kind)}, not a regular file; ntrain reads only regular files here. Replace it with the real file or remove it.");

    public static string Describe(FileKind kind) => kind switch
    {
        FileKind.Directory => "a folder",
        FileKind.Fifo => "a FIFO (named pipe)",
        FileKind.CharacterDevice => "a character device",
        FileKind.BlockDevice => "a block device",
        FileKind.Socket => "a socket",
        FileKind.SymbolicLink => "a symbolic link",
        FileKind.Missing => "missing",
        _ => "a special file",
    };
}

public enum FileKind { Missing, Regular, Directory, SymbolicLink, Fifo, CharacterDevice, BlockDevice, Socket, Other }
