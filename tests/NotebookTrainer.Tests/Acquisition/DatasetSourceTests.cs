using System.IO.Compression;
using System.Text;
using NotebookTrainer.Acquisition;
using NotebookTrainer.Datasets;
using NotebookTrainer.Progress;
using NotebookTrainer.World;

namespace NotebookTrainer.Tests.Acquisition;

/// <summary>Notebook 02's one call: each kind of source lands where the later notebooks read it.</summary>
public sealed class DatasetSourceTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("nt-source-").FullName;
    public void Dispose() => Directory.Delete(dir, true);

    sealed class Recorder : IProgress<ProgressUpdate>
    {
        public List<ProgressUpdate> Updates { get; } = [];
        public void Report(ProgressUpdate value) => Updates.Add(value);
    }

    [Fact]
    public async Task The_sample_source_draws_the_sample_set_and_reports_it_done()
    {
        var progress = new Recorder();
        var acquired = await DatasetSource.AcquireAsync(DatasetSource.Sample, dir, progress: progress);
        Assert.Equal(dir, acquired.TrainDir);
        Assert.Equal(SampleDataset.DefaultCount, Directory.GetFiles(Path.Combine(dir, SampleDataset.FolderName), "*.png").Length);
        Assert.Equal(SampleDataset.DefaultCount, progress.Updates[^1].Done);
        Assert.Contains($"{SampleDataset.DefaultCount} sample images", acquired.ToHtml());
    }

    [Fact]
    public async Task A_zip_is_unpacked_into_the_data_folder_and_a_links_file_downloads_into_the_repeats_folder()
    {
        var zip = Path.Combine(dir, "set.zip");
        using (var archive = ZipFile.Open(zip, ZipArchiveMode.Create))
        using (var entry = archive.CreateEntry("5_cat/a.txt").Open())
            entry.Write(Encoding.UTF8.GetBytes("cat"));
        var data = Path.Combine(dir, "data");
        var unpacked = await DatasetSource.AcquireAsync(zip, data);
        Assert.Equal("cat", File.ReadAllText(Path.Combine(data, "5_cat", "a.txt")));
        Assert.Contains("Extracted 1 files", unpacked.ToHtml());

        using var server = new LoopbackRouteServer(r => (200, "image/png", Encoding.UTF8.GetBytes("PNG-" + r.Url!.AbsolutePath)));
        var links = Path.Combine(dir, "links.txt");
        File.WriteAllLines(links, ["# two images", new Uri(server.BaseUri, "a.png").ToString(), new Uri(server.BaseUri, "b.png").ToString()]);
        var downloaded = await DatasetSource.AcquireAsync(links, data, repeats: 3, activationTag: "ohwx");
        Assert.Equal(data, downloaded.TrainDir);
        Assert.Equal(2, Directory.GetFiles(Path.Combine(data, "3_ohwx")).Length);
    }

    [Fact]
    public async Task A_folder_is_used_as_it_is_and_a_missing_one_is_named_with_the_choices()
    {
        var acquired = await DatasetSource.AcquireAsync(dir, Path.Combine(dir, "unused"));
        Assert.Equal(dir, acquired.TrainDir);
        Assert.False(Directory.Exists(Path.Combine(dir, "unused")));

        var missing = Path.Combine(dir, "nope");
        var error = await Assert.ThrowsAsync<DirectoryNotFoundException>(() => DatasetSource.AcquireAsync(missing, dir));
        Assert.Contains(missing, error.Message);
        Assert.Contains("\"sample\", a dataset folder, a .zip or a .txt", error.Message);
    }
}
