using NotebookTrainer.Curation;
using NotebookTrainer.Datasets;
using NotebookTrainer.Images;
using NotebookTrainer.Tests.Datasets;

namespace NotebookTrainer.Tests.Security;

/// <summary>FIFOs, devices and huge files named like images, captions or metadata are reported, never read blindly.</summary>
public sealed class SpecialFileTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("nt-special-").FullName;
    public void Dispose() => Directory.Delete(dir, true);

    static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);
    static readonly Dictionary<string, string> SmallHeap = new() { ["DOTNET_GCHeapHardLimit"] = "0x40000000" };

    string Folder(string name)
    {
        var folder = Directory.CreateDirectory(Path.Combine(dir, name)).FullName;
        File.WriteAllBytes(Path.Combine(folder, "a.png"), TestImages.Png(64, 64));
        File.WriteAllText(Path.Combine(folder, "a.txt"), "a, b");
        return folder;
    }

    static void MakeFifo(string path)
    {
        using var process = System.Diagnostics.Process.Start("mkfifo", [path]);
        process.WaitForExit();
        Assert.Equal(0, process.ExitCode);
    }

    [Fact]
    public void A_fifo_image_or_caption_is_reported_without_hanging_inspect_or_stats()
    {
        var folder = Folder("fifo");
        File.WriteAllBytes(Path.Combine(folder, "b.png"), TestImages.Png(64, 64));
        MakeFifo(Path.Combine(folder, "x.png"));
        MakeFifo(Path.Combine(folder, "b.txt"));

        var inspect = BoundedNtrain.Run(["dataset", "inspect", folder], Bound);
        Assert.False(inspect.TimedOut, inspect.ToString());
        Assert.Equal(1, inspect.ExitCode);
        Assert.Contains($"{Path.Combine(folder, "x.png")}: error: is a FIFO", inspect.Stdout);
        Assert.Contains($"{Path.Combine(folder, "b.txt")}: error: is a FIFO", inspect.Stdout);
        Assert.Contains("1 train images", inspect.Stdout);

        var stats = BoundedNtrain.Run(["tags", "stats", folder], Bound);
        Assert.False(stats.TimedOut, stats.ToString());
        Assert.Equal(2, stats.ExitCode);
        Assert.Contains("b.txt: is a FIFO", stats.Stderr);

        Assert.Null(NotebookTrainer.Images.ThumbnailGrid.Thumbnail(Path.Combine(folder, "x.png"), 64));
        Assert.Throws<NotebookTrainer.IO.UntrustedFileException>(() => ImageFiles.Decode(Path.Combine(folder, "x.png")));
    }

    [Fact]
    public void A_caption_or_metadata_file_linked_to_dev_zero_is_refused_in_bounded_memory()
    {
        var folder = Folder("zero");
        File.Delete(Path.Combine(folder, "a.txt"));
        File.CreateSymbolicLink(Path.Combine(folder, "a.txt"), "/dev/zero");
        var captions = BoundedNtrain.Run(["dataset", "inspect", folder], Bound, SmallHeap);
        Assert.False(captions.TimedOut, captions.ToString());
        Assert.Equal(1, captions.ExitCode);
        Assert.Contains("a.txt: error: is a character device", captions.Stdout);
        Assert.True(captions.PeakResidentBytes < 512L << 20, captions.ToString());

        var metadata = Path.Combine(dir, "meta.json");
        File.CreateSymbolicLink(metadata, "/dev/zero");
        var config = Path.Combine(dir, "fine_tune.toml");
        File.WriteAllText(config, $"[general]\nresolution = 512\n[[datasets]]\n[[datasets.subsets]]\nimage_dir = '{folder}'\nmetadata_file = '{metadata}'\n");
        var fineTune = BoundedNtrain.Run(["dataset", "inspect", config], Bound, SmallHeap);
        Assert.False(fineTune.TimedOut, fineTune.ToString());
        Assert.Contains("meta.json", fineTune.Stdout);
        Assert.Contains("is a character device", fineTune.Stdout);
        Assert.DoesNotContain("   at ", fineTune.Stderr);
        Assert.True(fineTune.PeakResidentBytes < 512L << 20, fineTune.ToString());
    }

    [Fact]
    public void Oversized_captions_configs_and_metadata_are_refused_by_size_before_reading()
    {
        var folder = Folder("huge");
        using (var caption = File.OpenWrite(Path.Combine(folder, "a.txt"))) caption.SetLength(3L << 30);   // sparse: 3 GiB, no disk used
        var report = DatasetInspector.Inspect(folder);
        var problem = Assert.Single(report.Problems, p => p.File.EndsWith("a.txt"));
        Assert.True(problem.IsError);
        Assert.Contains("3,221,225,472 bytes, more than the 1 MiB (NTRAIN_MAX_CAPTION_BYTES)", problem.Message);

        var config = Path.Combine(dir, "huge.toml");
        using (var toml = File.OpenWrite(config)) toml.SetLength(1L << 30);
        var configReport = DatasetInspector.Inspect(config);
        Assert.Null(configReport.Plan);
        Assert.Contains("NTRAIN_MAX_CONFIG_BYTES", configReport.Problems.Single().Message);

        var fifoConfig = Path.Combine(dir, "fifo.toml");
        MakeFifo(fifoConfig);
        var run = BoundedNtrain.Run(["dataset", "inspect", fifoConfig], Bound);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("is a FIFO", run.Stdout);
    }
}
