using System.Security.Cryptography;
using NotebookTrainer.Downloads;
using NotebookTrainer.Progress;

namespace NotebookTrainer.Tests.Downloads;

public sealed class DownloaderTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("nt-dl-").FullName;
    readonly byte[] content = RandomNumberGenerator.GetBytes(300_000);
    readonly HttpClient http = new() { Timeout = TimeSpan.FromSeconds(20) };

    public void Dispose()
    {
        http.Dispose();
        Directory.Delete(dir, true);
    }

    string Sha => Convert.ToHexStringLower(SHA256.HashData(content));
    string Target => Path.Combine(dir, "model.safetensors");
    Downloader NewDownloader(Func<string, string?>? env = null) =>
        new(http, new DownloadOptions { RetryDelay = TimeSpan.FromMilliseconds(10), GetEnvironmentVariable = env ?? (_ => null) });

    [Fact]
    public async Task DownloadsAndVerifiesAndRenamesIntoPlace()
    {
        await using var server = new LoopbackFileServer(content);
        var updates = new List<ProgressUpdate>();
        var result = await NewDownloader().DownloadAsync(new DownloadRequest(server.Url(), Target, Sha), new SyncProgress(updates.Add));
        Assert.Equal(content, File.ReadAllBytes(Target));
        Assert.Equal(Sha, result.Sha256);
        Assert.False(File.Exists(Target + ".part"));
        Assert.Equal(content.Length, updates[^1].Done);
        Assert.Equal(content.Length, updates[^1].Total);
    }

    [Fact]
    public async Task DroppedConnectionIsResumedWithRange()
    {
        await using var server = new LoopbackFileServer(content) { DropAfterBytes = 100_000, DropTimes = 2 };
        var result = await NewDownloader().DownloadAsync(new DownloadRequest(server.Url(), Target, Sha));
        Assert.Equal(content, File.ReadAllBytes(Target));
        Assert.True(result.Resumed);
        Assert.Equal(3, result.Attempts);
        Assert.Contains(server.Requests, r => r.Contains("Range: bytes=100000-"));
        Assert.Contains(server.Requests, r => r.Contains("Range: bytes=200000-"));
    }

    [Fact]
    public async Task KilledDownloadResumesInANewDownloader()
    {
        await using var server = new LoopbackFileServer(content) { DropAfterBytes = 120_000, DropTimes = 1 };
        var first = new Downloader(http, new DownloadOptions { MaxAttempts = 1 });
        await Assert.ThrowsAsync<DownloadException>(() => first.DownloadAsync(new DownloadRequest(server.Url(), Target, Sha)));
        Assert.Equal(120_000, new FileInfo(Target + ".part").Length);
        Assert.False(File.Exists(Target));

        var result = await NewDownloader().DownloadAsync(new DownloadRequest(server.Url(), Target, Sha));
        Assert.True(result.Resumed);
        Assert.Equal(content, File.ReadAllBytes(Target));
        Assert.Contains("Range: bytes=120000-", server.Requests[^1]);
    }

    [Fact]
    public async Task ServerIgnoringRangeRestartsFromZero()
    {
        await using var server = new LoopbackFileServer(content) { DropAfterBytes = 50_000, IgnoreRange = true };
        var result = await NewDownloader().DownloadAsync(new DownloadRequest(server.Url(), Target, Sha));
        Assert.Equal(content, File.ReadAllBytes(Target));
        Assert.Equal(2, result.Attempts);
    }

    [Fact]
    public async Task WrongBytesFailTheHashAndLeaveNothingBehind()
    {
        var wrong = (byte[])content.Clone();
        wrong[1234] ^= 0xff;
        await using var server = new LoopbackFileServer(wrong);
        var e = await Assert.ThrowsAsync<DownloadException>(() => NewDownloader().DownloadAsync(new DownloadRequest(server.Url(), Target, Sha)));
        Assert.Contains("SHA-256", e.Message);
        Assert.Contains(Sha, e.Message);
        Assert.False(File.Exists(Target));
        Assert.False(File.Exists(Target + ".part"));
    }

    [Fact]
    public async Task ServerAnnouncingMoreThanItSendsIsRetriedThenReported()
    {
        await using var server = new LoopbackFileServer(content) { AnnouncedLength = content.Length + 1000, IgnoreRange = true };
        var downloader = new Downloader(http, new DownloadOptions { MaxAttempts = 2, RetryDelay = TimeSpan.FromMilliseconds(10) });
        var e = await Assert.ThrowsAsync<DownloadException>(() => downloader.DownloadAsync(new DownloadRequest(server.Url(), Target)));
        Assert.Contains("gave up after 2 attempts", e.Message);
        Assert.False(File.Exists(Target));
    }

    [Fact]
    public async Task ServerAnnouncingLessThanItSendsIsRefused()
    {
        await using var server = new LoopbackFileServer(content) { AnnouncedLength = 1000 };
        // HTTP framing stops at the announced length, so the short file must be caught by size or hash.
        var e = await Assert.ThrowsAsync<DownloadException>(() => NewDownloader().DownloadAsync(new DownloadRequest(server.Url(), Target, Sha, ExpectedSize: content.Length)));
        Assert.Contains("announces 1,000 bytes but the catalog says 300,000", e.Message);
        Assert.False(File.Exists(Target));
    }

    [Fact]
    public async Task AbsurdAnnouncedSizeIsRefused()
    {
        await using var server = new LoopbackFileServer(content) { AnnouncedLength = 1L << 40 };
        var downloader = new Downloader(http, new DownloadOptions { MaxBytes = 1L << 30 });
        var e = await Assert.ThrowsAsync<DownloadException>(() => downloader.DownloadAsync(new DownloadRequest(server.Url(), Target)));
        Assert.Contains("more than the", e.Message);
    }

    [Theory]
    [InlineData(404, "not found")]
    [InlineData(403, "not public")]
    public async Task HttpErrorsAreExplained(int status, string expected)
    {
        await using var server = new LoopbackFileServer(content) { StatusCode = status };
        var e = await Assert.ThrowsAsync<DownloadException>(() => NewDownloader().DownloadAsync(new DownloadRequest(server.Url(), Target)));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public async Task ServerErrorsAreRetried()
    {
        await using var server = new LoopbackFileServer(content) { StatusCode = 503 };
        var downloader = new Downloader(http, new DownloadOptions { MaxAttempts = 3, RetryDelay = TimeSpan.FromMilliseconds(5) });
        var e = await Assert.ThrowsAsync<DownloadException>(() => downloader.DownloadAsync(new DownloadRequest(server.Url(), Target)));
        Assert.Equal(3, server.Requests.Count);
        Assert.Contains("503", e.Message);
    }

    [Fact]
    public async Task TokenFromEnvironmentIsSentButNeverShown()
    {
        const string secret = "hf_secret_value_123";
        await using var server = new LoopbackFileServer(content) { RequireAuthorization = r => r.Authorization == "Bearer " + secret };
        var request = new DownloadRequest(server.Url(), Target, Sha, TokenVariable: "HF_TOKEN");

        var missing = await Assert.ThrowsAsync<DownloadException>(() => NewDownloader().DownloadAsync(request));
        Assert.Contains("set the environment variable HF_TOKEN", missing.Message);

        await NewDownloader(name => name == "HF_TOKEN" ? secret : null).DownloadAsync(request);
        Assert.Equal(content, File.ReadAllBytes(Target));
        Assert.DoesNotContain(secret, missing.Message);
    }

    [Fact]
    public async Task PresentFileWithMatchingHashIsNotDownloadedAgain()
    {
        await File.WriteAllBytesAsync(Target, content);
        await using var server = new LoopbackFileServer(content);
        var result = await NewDownloader().DownloadAsync(new DownloadRequest(server.Url(), Target, Sha));
        Assert.True(result.AlreadyPresent);
        Assert.Empty(server.Requests);
    }

    [Fact]
    public async Task CancellationKeepsThePartFileForLater()
    {
        await using var server = new LoopbackFileServer(content);
        using var cts = new CancellationTokenSource();
        var progress = new SyncProgress(u => { if (u.Done > 0) cts.Cancel(); });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => NewDownloader().DownloadAsync(new DownloadRequest(server.Url(), Target, Sha), progress, cts.Token));
        Assert.False(File.Exists(Target));
        await NewDownloader().DownloadAsync(new DownloadRequest(server.Url(), Target, Sha));
        Assert.Equal(content, File.ReadAllBytes(Target));
    }

    sealed class SyncProgress(Action<ProgressUpdate> report) : IProgress<ProgressUpdate>
    {
        public void Report(ProgressUpdate value) => report(value);
    }
}
