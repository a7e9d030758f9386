using System.Security.Cryptography;
using NotebookTrainer.Progress;

namespace NotebookTrainer.Checkpoints;

/// <summary>
/// The hashes model sites and UIs show for a checkpoint file: full SHA-256, A1111's short hash (its first 10 hex
/// digits, what civitai's "AutoV2" is) and A1111's legacy "model hash" (SHA-256 of the 64 KiB at offset 1 MiB,
/// first 8 hex digits; an empty read for files of 1 MiB or less, as in A1111 and kohya; <see cref="LegacyModelHashOf"/>).
/// </summary>
public sealed record FileHashes(string Path, long Size, string Sha256, string ShortHash, string LegacyModelHash)
{
    public static FileHashes Compute(string path, IProgress<ProgressUpdate>? progress = null, CancellationToken cancellationToken = default)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        var size = stream.Length;
        const int chunk = 1 << 22;
        var tracker = new ProgressTracker($"sha256 {System.IO.Path.GetFileName(path)}", Math.Max(1, (size + chunk - 1) / chunk), progress);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[chunk];
        int read;
        while ((read = stream.Read(buffer, 0, chunk)) > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            sha.AppendData(buffer, 0, read);
            tracker.Advance();
        }
        var full = Convert.ToHexStringLower(sha.GetHashAndReset());

        return new FileHashes(path, size, full, full[..10], LegacyModelHashOf(stream));
    }

    /// <summary>
    /// A1111's legacy "model hash", which kohya records as ss_sd_model_hash: both seek to 1 MiB and hash the next
    /// 64 KiB, so a file of 1 MiB or less hashes an empty read (e3b0c442).
    /// </summary>
    public static string LegacyModelHashOf(string path)
    {
        using var stream = File.OpenRead(path);
        return LegacyModelHashOf(stream);
    }

    static string LegacyModelHashOf(Stream stream)
    {
        const long offset = 0x100000;
        var buffer = new byte[0x10000];
        stream.Position = Math.Min(offset, stream.Length);
        var read = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        return Convert.ToHexStringLower(SHA256.HashData(buffer.AsSpan(0, read)))[..8];
    }
}
