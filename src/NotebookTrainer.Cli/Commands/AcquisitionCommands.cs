using System.CommandLine;
using NotebookTrainer.Acquisition;
using NotebookTrainer.Catalog;
using NotebookTrainer.Downloads;

using static NotebookTrainer.Cli.CliOptions;

namespace NotebookTrainer.Cli.Commands;

/// <summary><c>ntrain download</c> (models) and <c>ntrain acquire zip|urls|booru</c> (datasets); the work is in NotebookTrainer.Downloads and .Acquisition.</summary>
public static class AcquisitionCommands
{
    public static Command Download()
    {
        var what = new Argument<string>("catalog-name|url") { Description = "a name from the model catalog or an https:// link" };
        var output = new Option<string?>("--out") { Description = "the file to write (required for a link; default for a catalog name: models/FILE)", HelpName = "PATH" };
        var sha256 = new Option<string?>("--sha256") { Description = "the expected hash of a link's file", HelpName = "HEX" };
        var catalog = new Option<string?>("--catalog") { Description = "the model catalog (default: the one shipped with ntrain)", HelpName = "models.toml" };
        var command = new Command("download", "Download a model (resume, sha256 check, HF_TOKEN / CIVITAI_TOKEN)") { what, output, sha256, catalog };
        command.SetAction(parse =>
        {
            var name = parse.GetRequiredValue(what);
            var request = name.Contains("://")
                ? new DownloadRequest(name, parse.GetValue(output) ?? throw new CliException("--out is required for a link."), parse.GetValue(sha256))
                : FromCatalog(name, parse.GetValue(catalog), parse.GetValue(output));
            using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
            var result = new Downloader(http).DownloadAsync(request, new ConsoleProgress(), Ntrain.Cancellation).GetAwaiter().GetResult();
            Console.WriteLine(result.AlreadyPresent
                ? $"{result.Path} is already here and matches sha256 {result.Sha256}."
                : $"{result.Path}: {result.Bytes:N0} bytes, sha256 {result.Sha256}{(result.Resumed ? " (resumed)" : "")}.");
        });
        return command;
    }

    static DownloadRequest FromCatalog(string name, string? catalogPath, string? output)
    {
        var catalog = ModelCatalog.Load(catalogPath ?? Path.Combine(AppContext.BaseDirectory, "data-templates", "models.toml"));
        var entry = catalog.Entries.FirstOrDefault(e => e.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
            ?? throw new CliException($"'{name}' is not in the model catalog and is not a link; use one of {string.Join(", ", catalog.Entries.Select(e => e.Name))}, or an https:// link.");
        if (entry.IsEmbedded)
            throw new CliException($"'{name}' ships with ntrain, it is not downloaded: run 'ntrain model tiny --out DIR' to copy it out.");
        var url = entry.Url!;
        return new DownloadRequest(url, output ?? Path.Combine("models", Path.GetFileName(new Uri(url).AbsolutePath)), entry.Sha256, entry.Size);
    }

    public static Command Acquire() => new("acquire", "Collect a dataset's images: a zip, a list of links or a booru search")
    {
        Zip(), Urls(), Booru(),
    };

    static Option<string> Output() => new("--out") { Description = "the dataset folder to fill", HelpName = "DIR", Required = true };

    static Command Zip()
    {
        var zip = new Argument<string>("file.zip") { Description = "the zip to unpack" };
        var output = Output();
        var command = new Command("zip", "Unpack a dataset zip safely") { zip, output };
        command.SetAction(parse =>
        {
            var result = ZipImporter.Extract(parse.GetRequiredValue(zip), parse.GetRequiredValue(output), cancellation: Ntrain.Cancellation);
            Console.WriteLine($"extracted {result.Extracted.Count} files into {result.Destination}; skipped {result.Skipped.Count}");
            foreach (var (entry, why) in result.Skipped) Console.WriteLine($"  skipped {entry}: {why}");
        });
        return command;
    }

    static Command Urls()
    {
        var list = new Argument<string>("links.txt") { Description = "a text file with one image URL per line" };
        var output = Output();
        var parallel = NumberOptions.Whole("--parallel", 4, "downloads at once");
        var command = new Command("urls", "Download a list of image links (parallel, polite, deduplicated)") { list, output, parallel };
        command.SetAction(parse =>
        {
            var links = ImageUrlDownloader.ReadList(parse.GetRequiredValue(list));
            using var http = Http();
            return Report(new ImageUrlDownloader(http, parse.GetValue(parallel))
                .DownloadAsync(links.Select(l => (l, (string?)null)), parse.GetRequiredValue(output), progress: new ConsoleProgress(), cancellation: Ntrain.Cancellation).GetAwaiter().GetResult());
        });
        return command;
    }

    static Command Booru()
    {
        var site = new Argument<string>("danbooru|gelbooru") { Description = "the site's software" };
        var baseUrl = new Argument<string>("base-url") { Description = "the site's address, e.g. https://danbooru.donmai.us" };
        var tags = new Option<string>("--tags") { Description = "the search, e.g. \"a b -c\"", Required = true };
        var output = Output();
        var limit = NumberOptions.Whole("--limit", 100, "posts at most");
        var rating = new Option<string?>("--rating") { Description = "ratings to keep: g, s, q, e (comma-separated)", HelpName = "g,s" };
        var parallel = NumberOptions.Whole("--parallel", 2, "downloads at once");
        var keepUnderscores = Flag("--keep-underscores", "keep tags' underscores in the captions");
        var command = new Command("booru", "Download a booru search; tags become the captions") { site, baseUrl, tags, output, limit, rating, parallel, keepUnderscores };
        command.SetAction(parse =>
        {
            using var http = Http();
            var baseUri = new Uri(parse.GetRequiredValue(baseUrl).TrimEnd('/') + "/");
            IBooruSource source = parse.GetRequiredValue(site) switch
            {
                "danbooru" => new DanbooruSource(http, baseUri),
                "gelbooru" => new GelbooruSource(http, baseUri),
                var other => throw new CliException($"unknown booru kind '{other}': use danbooru or gelbooru."),
            };
            var ratings = parse.GetValue(rating)?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(ParseRating).ToHashSet();
            var posts = source.SearchAsync(BooruQuery.Parse(parse.GetRequiredValue(tags), parse.GetValue(limit), ratings), Ntrain.Cancellation).GetAwaiter().GetResult();
            Console.WriteLine($"found {posts.Count} posts");
            var underscores = parse.GetValue(keepUnderscores);
            return Report(new ImageUrlDownloader(http, parse.GetValue(parallel), TimeSpan.FromSeconds(1))
                .DownloadAsync(posts.Select(p => (p.FileUrl, (string?)p.Caption(!underscores))), parse.GetRequiredValue(output), progress: new ConsoleProgress(), cancellation: Ntrain.Cancellation).GetAwaiter().GetResult());
        });
        return command;
    }

    static HttpClient Http()
    {
        var http = new HttpClient { Timeout = TimeSpan.FromMinutes(5) };
        http.DefaultRequestHeaders.UserAgent.ParseAdd("NotebookTrainer/0.1 (dataset acquisition)");
        return http;
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
