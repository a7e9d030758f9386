using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace NotebookTrainer.IO;

/// <summary>
/// The few libc calls .NET does not expose: a non-blocking open (so a FIFO cannot hang the reader), the file type of
/// an open handle or a path (statx, whose layout is the same on every Linux architecture), and realpath.
/// </summary>
static class UnixFile
{
    const int O_RDONLY = 0, O_NONBLOCK = 0x800, O_CLOEXEC = 0x80000;
    const int F_GETFL = 3, F_SETFL = 4;
    const int AT_FDCWD = -100, AT_SYMLINK_NOFOLLOW = 0x100, AT_EMPTY_PATH = 0x1000;
    const uint STATX_TYPE = 1;
    const int ENOENT = 2, EACCES = 13, ENOTDIR = 20, ELOOP = 40, ENAMETOOLONG = 36;

    public static SafeFileHandle OpenNonBlocking(string path)
    {
        var fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd >= 0) return new SafeFileHandle(fd, ownsHandle: true);
        var errno = Marshal.GetLastPInvokeError();
        throw errno switch
        {
            ENOENT or ENOTDIR => new FileNotFoundException($"{path}: no such file.", path),
            EACCES => new UnauthorizedAccessException($"{path}: permission denied; check the file's permissions."),
            ELOOP => new UntrustedFileException(path, $"{path}: a loop of symbolic links; replace it with the real file."),
            ENAMETOOLONG => new UntrustedFileException(path, $"{path}: the path is too long for this system."),
            _ => new IOException($"{path}: cannot open ({Marshal.GetPInvokeErrorMessage(errno)})."),
        };
    }

    public static void ClearNonBlocking(SafeFileHandle handle)
    {
        var fd = (int)handle.DangerousGetHandle();
        var flags = fcntl(fd, F_GETFL, 0);
        if (flags >= 0) fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    }

    public static FileKind Kind(SafeFileHandle handle) => Statx((int)handle.DangerousGetHandle(), "", AT_EMPTY_PATH);

    public static FileKind Kind(string path, bool followLinks)
    {
        if (!OperatingSystem.IsLinux())
        {
            var info = new FileInfo(path);
            if (info.LinkTarget is not null && !followLinks) return FileKind.SymbolicLink;
            return Directory.Exists(path) ? FileKind.Directory : File.Exists(path) ? FileKind.Regular : FileKind.Missing;
        }
        return Statx(AT_FDCWD, path, followLinks ? 0 : AT_SYMLINK_NOFOLLOW);
    }

    /// <summary>The resolved path, or null when it does not exist (or cannot be resolved).</summary>
    public static string? RealPath(string path)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
            return Path.Exists(path) ? new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? Path.GetFullPath(path) : null;
        var resolved = realpath(path, IntPtr.Zero);
        if (resolved == IntPtr.Zero) return null;
        try { return Marshal.PtrToStringUTF8(resolved); }
        finally { free(resolved); }
    }

    static FileKind Statx(int dirfd, string path, int flags)
    {
        Span<byte> buffer = stackalloc byte[256];
        if (statx(dirfd, path, flags, STATX_TYPE, ref MemoryMarshal.GetReference(buffer)) != 0) return FileKind.Missing;
        var mode = BitConverter.ToUInt16(buffer[0x1C..]);   // stx_mode
        return (mode & 0xF000) switch
        {
            0x8000 => FileKind.Regular,
            0x4000 => FileKind.Directory,
            0xA000 => FileKind.SymbolicLink,
            0x1000 => FileKind.Fifo,
            0x2000 => FileKind.CharacterDevice,
            0x6000 => FileKind.BlockDevice,
            0xC000 => FileKind.Socket,
            _ => FileKind.Other,
        };
    }

    [DllImport("libc", SetLastError = true)]
    static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", SetLastError = true)]
    static extern int fcntl(int fd, int command, int argument);

    [DllImport("libc", SetLastError = true)]
    static extern int statx(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, ref byte buffer);

    [DllImport("libc", SetLastError = true)]
    static extern IntPtr realpath([MarshalAs(UnmanagedType.LPUTF8Str)] string path, IntPtr resolved);

    [DllImport("libc")]
    static extern void free(IntPtr pointer);
}
