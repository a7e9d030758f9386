using NotebookTrainer.Datasets;
using NotebookTrainer.Display;
using NotebookTrainer.Progress;
using NotebookTrainer.World;

namespace NotebookTrainer.Acquisition;

/// <summary>What <see cref="DatasetSource.AcquireAsync"/> did; <see cref="TrainDir"/> is the folder later steps read.</summary>
public sealed record AcquiredDataset(string TrainDir, string Summary, IHtmlRenderable? Report) : IHtmlRenderable
{
    public string ToHtml() => $"<p>{Html.Escape(Summary)}</p>" + (Report?.ToHtml() ?? "");
}

/// <summary>
/// The training images of notebook 02, by the kind of source: <c>"sample"</c> draws the sample set into the data folder,
/// a <c>.zip</c> is unpacked into it, a <c>.txt</c> of image links is downloaded into
/// <c>&lt;dataDir&gt;/&lt;repeats&gt;_&lt;activation tag&gt;</c>, and anything else is a folder used as it is.
/// </summary>
public static class DatasetSource
{
    public const string Sample = "sample";

    public static async Task<AcquiredDataset> AcquireAsync(string source, string dataDir, int seed = 42, int repeats = SampleDataset.Repeats,
        string activationTag = SampleDataset.ActivationTag, IProgress<ProgressUpdate>? progress = null, CancellationToken cancellation = default)
    {
        if (source == Sample)
        {
            var images = SampleDataset.Generate(dataDir, seed);
            progress?.Report(new ProgressUpdate("images", images.Count, images.Count, 0, TimeSpan.Zero));
            return new AcquiredDataset(dataDir, $"{images.Count} sample images in {Path.GetFullPath(Path.Combine(dataDir, SampleDataset.FolderName))}", null);
        }
        if (source.EndsWith(".zip", StringComparison.OrdinalIgnoreCase))
        {
            var zip = ZipImporter.Extract(source, dataDir, cancellation: cancellation);
            return new AcquiredDataset(dataDir, $"{Path.GetFileName(source)} unpacked", zip);
        }
        if (source.EndsWith(".txt", StringComparison.OrdinalIgnoreCase))
        {
            using var http = new HttpClient();
            var links = ImageUrlDownloader.ReadList(source).Select(url => (url, default(string)));
            var destination = Path.Combine(dataDir, $"{repeats}_{activationTag}");
            var report = await new ImageUrlDownloader(http).DownloadAsync(links, destination, progress: progress, cancellation: cancellation);
            return new AcquiredDataset(dataDir, $"links of {Path.GetFileName(source)} downloaded into {Path.GetFullPath(destination)}", report);
        }
        if (!Directory.Exists(source))
            throw new DirectoryNotFoundException($"source '{source}': no such folder; give \"{Sample}\", a dataset folder, a .zip or a .txt of image links.");
        return new AcquiredDataset(source, $"using the folder {Path.GetFullPath(source)} as it is", null);
    }
}
