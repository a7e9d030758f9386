using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using NotebookTrainer.Display;
using NotebookTrainer.Downloads;
using NotebookTrainer.Progress;

namespace NotebookTrainer.Acquisition;

public sealed record ImageDownload(string Url, string? Path, string? Error, string? Caption = null);

public sealed record ImageDownloadReport(IReadOnlyList<ImageDownload> Items, int DuplicateUrls, int DuplicateContent) : IHtmlRenderable
{
    public int Downloaded => Items.Count(i => i.Path is not null);
    public IEnumerable<ImageDownload> Failed => Items.Where(i => i.Error is not null);

    public string ToHtml() =>
        $"<p>{Downloaded} images downloaded, {Failed.Count()} failed, {DuplicateUrls} duplicate links and {DuplicateContent} duplicate images skipped.</p>" +
        (Failed.Any() ? Html.Table(new[] { "url", "error" }, Failed.Take(100).Select(f => new object?[] { DownloadSource.Redact(f.Url), f.Error })) : "");
}

/// <summary>
/// Downloads a list of image links into a folder: several at a time but politely (a per-host gap between
/// requests), each link once, each image once (identical content is kept only under its first name), and
/// resumable (files already there are kept; half files resume through the Downloader's .part files).
/// File names are derived from the link, so running the same list again finds the same files.
/// </summary>
public sealed class ImageUrlDownloader(HttpClient http, int parallelism = 4, TimeSpan? perHostGap = null)
{
    readonly TimeSpan gap = perHostGap ?? TimeSpan.FromMilliseconds(250);
    readonly ConcurrentDictionary<string, SemaphoreSlim> hostLocks = new();
    readonly ConcurrentDictionary<string, DateTime> lastRequest = new();

    /// <summary>Reads a links file: one URL a line; blank lines and # comments skipped.</summary>
    public static IReadOnlyList<string> ReadList(string path) => File.Exists(path)
        ? File.ReadAllLines(path).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToArray()
        : throw new FileNotFoundException($"{path}: links file not found; give a text file with one image URL per line ('#' starts a comment).", path);

    public async Task<ImageDownloadReport> DownloadAsync(IEnumerable<(string Url, string? Caption)> items, string destination,
        string captionExtension = ".txt", IProgress<ProgressUpdate>? progress = null, CancellationToken cancellation = default)
    {
        Directory.CreateDirectory(destination);
        var unique = new List<(string Url, string? Caption)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        int duplicateUrls = 0;
        foreach (var item in items)
        {
            if (seen.Add(Normalize(item.Url))) unique.Add(item);
            else duplicateUrls++;
        }

        var tracker = new ProgressTracker("images", unique.Count, progress);
        var results = new ImageDownload[unique.Count];
        var downloader = new Downloader(http, new DownloadOptions { MaxAttempts = 3, MaxBytes = 256L << 20 });
        await Parallel.ForEachAsync(Enumerable.Range(0, unique.Count), new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellation }, async (i, token) =>
        {
            var (url, caption) = unique[i];
            try
            {
                var file = Path.Combine(destination, FileNameFor(url));
                if (!File.Exists(file))
                {
                    await WaitForHost(url, token);
                    await downloader.DownloadAsync(new DownloadRequest(url, file), null, token);
                }
                if (caption is not null)
                    IO.AtomicFile.WriteAllText(Path.ChangeExtension(file, captionExtension), caption);
                results[i] = new ImageDownload(url, file, null, caption);
            }
            catch (Exception e) when (e is DownloadException or IOException or HttpRequestException)
            {
                results[i] = new ImageDownload(url, null, e.Message, caption);
            }
            lock (tracker) tracker.Advance();
        });

        // Same bytes under two links: keep the first in list order.
        int duplicateContent = 0;
        var byHash = new Dictionary<string, string>();
        for (int i = 0; i < results.Length; i++)
        {
            if (results[i].Path is not { } path) continue;
            var hash = Downloader.Sha256Of(path);
            if (byHash.TryAdd(hash, path)) continue;
            File.Delete(path);
            var captionFile = Path.ChangeExtension(path, captionExtension);
            if (File.Exists(captionFile)) File.Delete(captionFile);
            results[i] = results[i] with { Path = null, Error = $"same image as {Path.GetFileName(byHash[hash])}" };
            duplicateContent++;
        }
        return new ImageDownloadReport(results, duplicateUrls, duplicateContent);
    }

    async Task WaitForHost(string url, CancellationToken token)
    {
        var host = new Uri(url).Authority;
        var gate = hostLocks.GetOrAdd(host, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(token);
        try
        {
            if (lastRequest.TryGetValue(host, out var last) && DateTime.UtcNow - last < gap)
                await Task.Delay(gap - (DateTime.UtcNow - last), token);
            lastRequest[host] = DateTime.UtcNow;
        }
        finally { gate.Release(); }
    }

    static string Normalize(string url) => Uri.TryCreate(url.Trim(), UriKind.Absolute, out var u) ? u.GetComponents(UriComponents.HttpRequestUrl, UriFormat.UriEscaped) : url.Trim();

    /// <summary>A stable name: the link's own file stem (sanitised) plus a short hash of the whole link.</summary>
    public static string FileNameFor(string url)
    {
        var uri = new Uri(url);
        var last = Uri.UnescapeDataString(uri.Segments.LastOrDefault() ?? "image").Trim('/');
        var ext = Path.GetExtension(last).ToLowerInvariant();
        if (!Images.ImageExtensions.All.Contains(ext)) ext = ".jpg";
        var stem = new string(Path.GetFileNameWithoutExtension(last).Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '_').Take(40).ToArray());
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Normalize(url))))[..10];
        return $"{(stem.Length > 0 ? stem : "image")}-{hash}{ext}";
    }
}
