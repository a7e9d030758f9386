using System.Text;
using NotebookTrainer.Acquisition;

namespace NotebookTrainer.Tests.Acquisition;

public sealed class ImageUrlDownloaderTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("nt-urls-").FullName;
    public void Dispose() => Directory.Delete(dir, true);

    static byte[] Image(string name) => Encoding.UTF8.GetBytes("PNG-" + name);

    [Fact]
    public async Task DownloadsEachLinkOnceEachImageOnceAndResumes()
    {
        using var server = new LoopbackRouteServer(r => r.Url!.AbsolutePath switch
        {
            "/a.png" => (200, "image/png", Image("a")),
            "/b.png" => (200, "image/png", Image("b")),
            "/copy-of-a.png" => (200, "image/png", Image("a")),
            _ => (404, "text/plain", Array.Empty<byte>()),
        });
        using var http = new HttpClient();
        var urls = new[] { "a.png", "b.png", "a.png", "copy-of-a.png", "missing.png" }.Select(p => (new Uri(server.BaseUri, p).ToString(), (string?)$"tag_{p[0]}"));
        var downloader = new ImageUrlDownloader(http, parallelism: 3, perHostGap: TimeSpan.FromMilliseconds(1));

        var report = await downloader.DownloadAsync(urls, dir);
        Assert.Equal(2, report.Downloaded);
        Assert.Equal(1, report.DuplicateUrls);
        Assert.Equal(1, report.DuplicateContent);
        Assert.Contains(report.Failed, f => f.Url.EndsWith("missing.png") && f.Error!.Contains("404"));
        Assert.Equal(2, Directory.GetFiles(dir, "*.png").Length);
        Assert.Equal("tag_a", File.ReadAllText(Path.ChangeExtension(report.Items[0].Path!, ".txt")));
        Assert.Equal(4, server.Requests.Count);

        var again = await downloader.DownloadAsync(urls.Take(2), dir);
        Assert.Equal(2, again.Downloaded);
        Assert.Equal(4, server.Requests.Count);
    }

    [Fact]
    public void FileNamesAreStableAndSafe()
    {
        var a = ImageUrlDownloader.FileNameFor("https://x.org/img/cat%20pic.webp?x=1");
        Assert.Equal(a, ImageUrlDownloader.FileNameFor("https://x.org/img/cat%20pic.webp?x=1"));
        Assert.Matches(@"^cat_pic-[0-9a-f]{10}\.webp$", a);
        Assert.EndsWith(".jpg", ImageUrlDownloader.FileNameFor("https://x.org/show?id=5"));
    }
}
