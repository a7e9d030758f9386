using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using NotebookTrainer.Progress;

namespace NotebookTrainer.Downloads;

/// <param name="TokenVariable">Environment variable holding a bearer token for this URL; by default HF_TOKEN for
/// Hugging Face and CIVITAI_TOKEN for Civitai links, none elsewhere.</param>
public sealed record DownloadRequest(string Url, string DestinationPath, string? Sha256 = null, long? ExpectedSize = null, string? TokenVariable = null);

public sealed record DownloadResult(string Path, long Bytes, string Sha256, bool AlreadyPresent, bool Resumed, int Attempts);

public sealed record DownloadOptions
{
    public int MaxAttempts { get; init; } = 5;
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>Refuse anything larger: a server that announces 200 GB for a LoRA is lying or wrong.</summary>
    public long MaxBytes { get; init; } = 64L << 30;
    /// <summary>Where tokens come from; replaceable in tests. Tokens are sent, never printed or saved.</summary>
    public Func<string, string?> GetEnvironmentVariable { get; init; } = Environment.GetEnvironmentVariable;
}

/// <summary>
/// Downloads one file to <c>DestinationPath</c> through <c>DestinationPath.part</c>: dropped connections are
/// resumed with a Range request, the result is checked against the expected size and SHA-256, and only a
/// verified file is renamed into place. A cancelled or killed download leaves the .part file to resume from.
/// </summary>
public sealed class Downloader(HttpClient http, DownloadOptions? options = null)
{
    readonly DownloadOptions options = options ?? new DownloadOptions();

    public async Task<DownloadResult> DownloadAsync(DownloadRequest request, IProgress<ProgressUpdate>? progress = null, CancellationToken cancellation = default)
    {
        var source = DownloadSource.Parse(request.Url);
        if (request.TokenVariable is { } variable)
            source = source with { TokenVariable = variable };
        var shown = DownloadSource.Redact(request.Url);
        var destination = Path.GetFullPath(request.DestinationPath);
        Directory.CreateDirectory(Path.GetDirectoryName(destination)!);

        if (File.Exists(destination) && request.Sha256 is { } known && Sha256Of(destination).Equals(known, StringComparison.OrdinalIgnoreCase))
            return new DownloadResult(destination, new FileInfo(destination).Length, known.ToLowerInvariant(), true, false, 0);

        var part = destination + ".part";
        bool resumed = false;
        for (int attempt = 1; ; attempt++)
        {
            cancellation.ThrowIfCancellationRequested();
            long have = File.Exists(part) ? new FileInfo(part).Length : 0;
            resumed |= have > 0;
            try
            {
                var complete = await TransferAsync(source, shown, part, have, request.ExpectedSize, progress, cancellation);
                if (!complete)
                    throw new IOException("the connection closed before the whole file arrived");
                var sha = Sha256Of(part);
                if (request.Sha256 is { } expected && !sha.Equals(expected, StringComparison.OrdinalIgnoreCase))
                {
                    File.Delete(part);
                    throw new DownloadException(
                        $"{shown}: the downloaded file's SHA-256 is {sha}, but {expected.ToLowerInvariant()} was expected. " +
                        "The server sent different bytes (a changed file, an error page or a corrupted mirror); the partial file was removed. " +
                        "Check the link, or update the sha256 if the publisher replaced the file.");
                }
                File.Move(part, destination, overwrite: true);
                return new DownloadResult(destination, new FileInfo(destination).Length, sha, false, resumed, attempt);
            }
            catch (Exception e) when (IsTransient(e) && !cancellation.IsCancellationRequested)
            {
                if (attempt >= options.MaxAttempts)
                {
                    var resume = File.Exists(part) ? $" Run the same download again to resume from {new FileInfo(part).Length:N0} bytes." : "";
                    throw new DownloadException($"{shown}: gave up after {attempt} attempts ({e.Message}).{resume}", e);
                }
                await Task.Delay(options.RetryDelay * attempt, cancellation);
            }
        }
    }

    static bool IsTransient(Exception e) => e is IOException or HttpRequestException or TaskCanceledException { InnerException: TimeoutException };

    /// <summary>Appends to <paramref name="part"/> from byte <paramref name="have"/>; true when the announced length arrived.</summary>
    async Task<bool> TransferAsync(DownloadSource source, string shown, string part, long have, long? expectedSize,
        IProgress<ProgressUpdate>? progress, CancellationToken cancellation)
    {
        using var message = new HttpRequestMessage(HttpMethod.Get, source.Uri);
        if (source.TokenVariable is { } variable && options.GetEnvironmentVariable(variable) is { Length: > 0 } token)
            message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (have > 0)
            message.Headers.Range = new RangeHeaderValue(have, null);

        using var response = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellation);
        if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable && have > 0)
        {
            // Our .part is as long as (or longer than) the file: start over rather than trust it.
            File.Delete(part);
            throw new IOException("the server refused to resume (416); starting again");
        }
        if ((int)response.StatusCode >= 500)
            throw new IOException($"the server answered {(int)response.StatusCode} ({response.StatusCode})");
        if (!response.IsSuccessStatusCode)
            throw StatusError(response.StatusCode, shown, source.TokenVariable);

        long start = 0;
        if (response.StatusCode == HttpStatusCode.PartialContent)
        {
            var range = response.Content.Headers.ContentRange;
            if (range?.From is not { } from || from != have)
                throw new DownloadException($"{shown}: the server answered a resume request for byte {have:N0} with bytes from {range?.From?.ToString("N0") ?? "?"}; it does not support resuming correctly. Delete {part} and try again.");
            start = from;
        }
        long? total = response.StatusCode == HttpStatusCode.PartialContent
            ? response.Content.Headers.ContentRange?.Length
            : response.Content.Headers.ContentLength;
        if (total is { } t)
        {
            if (t > options.MaxBytes)
                throw new DownloadException($"{shown}: the server announces {t:N0} bytes, more than the {options.MaxBytes:N0} allowed; this is not the file you expect (or raise DownloadOptions.MaxBytes).");
            if (expectedSize is { } e && t != e)
                throw new DownloadException($"{shown}: the server announces {t:N0} bytes but the catalog says {e:N0}; the link points to a different file.");
        }

        var tracker = new ProgressTracker(Path.GetFileName(part[..^5]), total ?? 0, progress);
        tracker.Advance(start);
        await using var body = await response.Content.ReadAsStreamAsync(cancellation);
        await using var file = new FileStream(part, start == 0 ? FileMode.Create : FileMode.Append, FileAccess.Write, FileShare.None, 1 << 16);
        var buffer = new byte[1 << 16];
        long written = start;
        while (true)
        {
            int n = await body.ReadAsync(buffer, cancellation);
            if (n == 0) break;
            if (total is { } limit && written + n > limit)
            {
                file.Close();
                File.Delete(part);
                throw new DownloadException($"{shown}: the server sent more bytes than the {limit:N0} it announced; refusing the file.");
            }
            await file.WriteAsync(buffer.AsMemory(0, n), cancellation);
            written += n;
            if (written > options.MaxBytes)
                throw new DownloadException($"{shown}: more than {options.MaxBytes:N0} bytes arrived; stopping.");
            tracker.Advance(n);
        }
        await file.FlushAsync(cancellation);
        return total is not { } expected || written == expected;
    }

    static DownloadException StatusError(HttpStatusCode status, string shown, string? tokenVariable) => status switch
    {
        HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden when tokenVariable is not null =>
            new($"{shown}: the server answered {(int)status} ({status}). This file needs an access token: set the environment variable {tokenVariable} and accept the model's licence on its page."),
        HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden =>
            new($"{shown}: the server answered {(int)status} ({status}); the file is not public."),
        HttpStatusCode.NotFound => new($"{shown}: not found (404). Check the link; for Hugging Face use the file's link, for Civitai the version's download link."),
        _ => new($"{shown}: the server answered {(int)status} ({status})."),
    };

    public static string Sha256Of(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
