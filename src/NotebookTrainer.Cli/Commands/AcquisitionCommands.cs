using NotebookTrainer.Acquisition;
using NotebookTrainer.Catalog;
using NotebookTrainer.Downloads;

namespace NotebookTrainer.Cli.Commands;

public static class AcquisitionCommands
{
    public static int Download(string[] args)
    {
        var a = new CliArgs(args, ["out", "sha256", "catalog"], []);
        var what = a.Positional(0, "a catalog name or a URL");
        var request = what.Contains("://")
            ? new DownloadRequest(what, a.Required("out"), a.Option("sha256"))
            : FromCatalog(what, a);
        using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        var result = new Downloader(http).DownloadAsync(request, new ConsoleProgress(), Ntrain.Cancellation).GetAwaiter().GetResult();
        Console.WriteLine(result.AlreadyPresent
            ? $"{result.Path} is already here and matches sha256 {result.Sha256}."
            : $"{result.Path}: {result.Bytes:N0} bytes, sha256 {result.Sha256}{(result.Resumed ? " (resumed)" : "")}.");
        return 0;
    }

    static DownloadRequest FromCatalog(string name, CliArgs a)
    {
        var catalog = ModelCatalog.Load(a.Option("catalog") ?? Path.Combine(AppContext.BaseDirectory, "data-templates", "models.toml"));
        var entry = catalog.Entries.FirstOrDefault(e => e.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
            ?? throw new CliException($"'{name}' is not in the model catalog and is not a link; use one of {string.Join(", ", catalog.Entries.Select(e => e.Name))}, or an https:// link.");
        if (entry.IsEmbedded)
            throw new CliException($"'{name}' ships with ntrain, it is not downloaded: run 'ntrain model tiny --out DIR' to copy it out.");
        var url = entry.Url!;
        var output = a.Option("out") ?? Path.Combine("models", Path.GetFileName(new Uri(url).AbsolutePath));
        return new DownloadRequest(url, output, entry.Sha256, entry.Size);
    }

    public static int Acquire(string[] args)
    {
        var a = new CliArgs(args, ["out", "tags", "limit", "rating", "parallel"], ["keep-underscores"]);
        var kind = a.Positional(0, "what to acquire: zip, urls or booru");
        var output = a.Required("out");
        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(5) };
        http.DefaultRequestHeaders.UserAgent.ParseAdd("NotebookTrainer/0.1 (dataset acquisition)");
        switch (kind)
        {
            case "zip":
                var zip = ZipImporter.Extract(a.Positional(1, "the zip file"), output, cancellation: Ntrain.Cancellation);
                Console.WriteLine($"extracted {zip.Extracted.Count} files into {zip.Destination}; skipped {zip.Skipped.Count}");
                foreach (var (entry, why) in zip.Skipped) Console.WriteLine($"  skipped {entry}: {why}");
                return 0;
            case "urls":
                var links = ImageUrlDownloader.ReadList(a.Positional(1, "the links file"));
                return Report(new ImageUrlDownloader(http, a.Int("parallel", 4))
                    .DownloadAsync(links.Select(l => (l, (string?)null)), output, progress: new ConsoleProgress(), cancellation: Ntrain.Cancellation).GetAwaiter().GetResult());
            case "booru":
                var site = a.Positional(1, "the site kind: danbooru or gelbooru");
                var baseUri = new Uri(a.Positional(2, "the site's base URL").TrimEnd('/') + "/");
                IBooruSource source = site switch
                {
                    "danbooru" => new DanbooruSource(http, baseUri),
                    "gelbooru" => new GelbooruSource(http, baseUri),
                    _ => throw new CliException($"unknown booru kind '{site}': use danbooru or gelbooru."),
                };
                var ratings = a.Option("rating")?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(ParseRating).ToHashSet();
                var posts = source.SearchAsync(BooruQuery.Parse(a.Required("tags"), a.Int("limit", 100), ratings), Ntrain.Cancellation).GetAwaiter().GetResult();
                Console.WriteLine($"found {posts.Count} posts");
                var underscores = a.Flag("keep-underscores");
                return Report(new ImageUrlDownloader(http, a.Int("parallel", 2), TimeSpan.FromSeconds(1))
                    .DownloadAsync(posts.Select(p => (p.FileUrl, (string?)p.Caption(!underscores))), output, progress: new ConsoleProgress(), cancellation: Ntrain.Cancellation).GetAwaiter().GetResult());
            default:
                throw new CliException($"unknown source '{kind}': use zip, urls or booru.");
        }
    }

    static BooruRating ParseRating(string r) => r.ToLowerInvariant() switch
    {
        "g" or "general" => BooruRating.General,
        "s" or "sensitive" => BooruRating.Sensitive,
        "q" or "questionable" => BooruRating.Questionable,
        "e" or "explicit" => BooruRating.Explicit,
        _ => throw new CliException($"unknown rating '{r}': use g, s, q or e."),
    };

    static int Report(ImageDownloadReport report)
    {
        Console.WriteLine($"{report.Downloaded} downloaded, {report.Failed.Count()} failed, {report.DuplicateUrls} duplicate links, {report.DuplicateContent} duplicate images");
        foreach (var f in report.Failed) Console.WriteLine($"  {DownloadSource.Redact(f.Url)}: {f.Error}");
        return report.Failed.Any(f => !f.Error!.StartsWith("same image", StringComparison.Ordinal)) ? 1 : 0;
    }
}
