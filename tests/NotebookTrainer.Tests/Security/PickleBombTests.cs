using System.IO.Compression;
using NotebookTrainer.Checkpoints;

namespace NotebookTrainer.Tests.Security;

/// <summary>A tiny checkpoint whose pickle builds millions of objects is refused by what it builds, not by its size.</summary>
public sealed class PickleBombTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("nt-pickle-").FullName;
    public void Dispose() => Directory.Delete(dir, true);

    /// <summary>A torch.save-shaped zip whose data.pkl is <paramref name="pickle"/>, deflated (so megabytes pack into kilobytes).</summary>
    string Checkpoint(byte[] pickle)
    {
        var path = Path.Combine(dir, $"{Guid.NewGuid():N}.ckpt");
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        using (var s = zip.CreateEntry("archive/data.pkl", CompressionLevel.SmallestSize).Open()) s.Write(pickle);
        using (var s = zip.CreateEntry("archive/byteorder").Open()) s.Write("little"u8);
        return path;
    }

    /// <summary>PROTO 2, then <paramref name="count"/> copies of <paramref name="op"/>: each makes a new object on the stack.</summary>
    static byte[] Repeated(byte op, int count) => [0x80, 2, .. Enumerable.Repeat(op, count)];

    [Fact]
    public void Twenty_megabytes_of_empty_dicts_in_a_small_checkpoint_are_refused_in_bounded_memory()
    {
        var path = Checkpoint(Repeated((byte)'}', 20_000_000));
        Assert.True(new FileInfo(path).Length < 100_000, $"{new FileInfo(path).Length} bytes");
        var run = BoundedNtrain.Run(["model", "inspect", path], TimeSpan.FromSeconds(90), new Dictionary<string, string> { ["DOTNET_GCHeapHardLimit"] = "0x60000000" });
        Assert.False(run.TimedOut, run.ToString());
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("NTRAIN_MAX_PICKLE_MEMORY_BYTES", run.Stderr);
        Assert.DoesNotContain("   at ", run.Stderr);
        Assert.True(run.PeakResidentBytes < 512L << 20, run.ToString());
    }

    [Theory]
    [InlineData((byte)']')]   // empty lists
    [InlineData((byte)'N')]   // None: only stack slots
    [InlineData((byte)'(')]   // marks
    public void Every_kind_of_object_counts_against_the_budget(byte op)
    {
        var e = Assert.Throws<CheckpointFormatException>(() => new RestrictedUnpickler("x.ckpt", Repeated(op, 3_000_000), 16L << 20).Load());
        Assert.Contains("more than 16 MiB", e.Message);
        Assert.StartsWith("x.ckpt: ", e.Message);
    }

    [Fact]
    public void A_data_pkl_over_the_size_cap_is_refused_before_it_is_read()
    {
        var path = Checkpoint(Repeated((byte)'N', 65 << 20));
        var e = Assert.Throws<CheckpointFormatException>(() => PickleCheckpoint.Open(path));
        Assert.Contains("NTRAIN_MAX_PICKLE_BYTES", e.Message);
    }
}
