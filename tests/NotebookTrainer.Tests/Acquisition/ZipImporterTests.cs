using System.IO.Compression;
using NotebookTrainer.Acquisition;

namespace NotebookTrainer.Tests.Acquisition;

public sealed class ZipImporterTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("nt-zip-").FullName;
    public void Dispose() => Directory.Delete(dir, true);

    string MakeZip(Action<ZipArchive> fill)
    {
        var path = Path.Combine(dir, $"{Guid.NewGuid():N}.zip");
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Create)) fill(zip);
        return path;
    }

    static void Add(ZipArchive zip, string name, byte[] bytes)
    {
        using var s = zip.CreateEntry(name).Open();
        s.Write(bytes);
    }

    [Fact]
    public void KeepsImagesCaptionsAndKohyaFolders()
    {
        var zip = MakeZip(z =>
        {
            Add(z, "10_sks dog/a.png", new byte[] { 1, 2, 3 });
            Add(z, "10_sks dog/a.txt", "sks, dog"u8.ToArray());
            Add(z, "readme.exe", new byte[] { 0x4d, 0x5a });
        });
        var report = ZipImporter.Extract(zip, Path.Combine(dir, "out"));
        Assert.Equal(2, report.Extracted.Count);
        Assert.Equal("sks, dog", File.ReadAllText(Path.Combine(dir, "out", "10_sks dog", "a.txt")));
        Assert.Contains(report.Skipped, s => s.Entry == "readme.exe");
    }

    [Theory]
    [InlineData("../evil.png", "..")]
    [InlineData("a/../../evil.png", "..")]
    [InlineData("/etc/evil.png", "absolute")]
    [InlineData("C:/evil.png", "absolute")]
    public void RefusesPathsThatLeaveTheDestination(string name, string reason)
    {
        var zip = MakeZip(z => Add(z, name, new byte[] { 1 }));
        var report = ZipImporter.Extract(zip, Path.Combine(dir, "out"));
        Assert.Empty(report.Extracted);
        Assert.Contains(reason, report.Skipped.Single().Reason);
        Assert.False(File.Exists(Path.Combine(dir, "evil.png")));
    }

    [Fact]
    public void RefusesSymbolicLinks()
    {
        var zip = MakeZip(z =>
        {
            var e = z.CreateEntry("link.png");
            e.ExternalAttributes = unchecked((int)(0xA1FFu << 16));
            using var s = e.Open();
            s.Write("/etc/passwd"u8);
        });
        var report = ZipImporter.Extract(zip, Path.Combine(dir, "out"));
        Assert.Equal("symbolic link", report.Skipped.Single().Reason);
    }

    [Fact]
    public void StopsAZipBombByBytesWritten()
    {
        var zip = MakeZip(z => Add(z, "big.png", new byte[5_000_000]));
        var e = Assert.Throws<InvalidDataException>(() => ZipImporter.Extract(zip, Path.Combine(dir, "out"), NotebookTrainer.IO.InputLimits.Current with { MaxZipTotalBytes = 1_000_000, MaxZipCompressionRatio = 100_000 }));
        Assert.Contains("zip bomb", e.Message);
        Assert.Empty(Directory.GetFiles(Path.Combine(dir, "out"), "*", SearchOption.AllDirectories));
    }

    [Fact]
    public void NotAZipIsExplained()
    {
        var path = Path.Combine(dir, "fake.zip");
        File.WriteAllText(path, "hello");
        var e = Assert.Throws<InvalidDataException>(() => ZipImporter.Extract(path, Path.Combine(dir, "out")));
        Assert.Contains("not a readable zip", e.Message);
    }
}
