using System.Buffers.Binary;
using System.IO.Compression;
using NotebookTrainer.Acquisition;
using NotebookTrainer.IO;

namespace NotebookTrainer.Tests.Security;

/// <summary>Dataset zips from strangers: bombs, lying sizes, colliding names, odd names and links in the destination.</summary>
public sealed class HostileZipTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("nt-hzip-").FullName;
    public void Dispose() => Directory.Delete(dir, true);

    string Out => Path.Combine(dir, "out");

    string MakeZip(params (string Name, byte[] Bytes)[] entries)
    {
        var path = Path.Combine(dir, $"{Guid.NewGuid():N}.zip");
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
            foreach (var (name, bytes) in entries)
            {
                using var s = zip.CreateEntry(name, CompressionLevel.Fastest).Open();
                s.Write(bytes);
            }
        return path;
    }

    string[] Written() => Directory.Exists(Out) ? Directory.GetFileSystemEntries(Out, "*", SearchOption.AllDirectories) : [];

    [Fact]
    public void A_zip_declaring_more_than_the_total_limit_is_refused_before_anything_is_written()
    {
        var zip = MakeZip(("a.png", new byte[2 << 20]), ("b.png", new byte[2 << 20]), ("c.png", new byte[2 << 20]));
        var limits = new InputLimits { MaxZipTotalBytes = 4 << 20, MaxZipCompressionRatio = 100_000 };
        var e = Assert.Throws<InvalidDataException>(() => ZipImporter.Extract(zip, Out, limits));
        Assert.Contains("zip bomb", e.Message);
        Assert.Contains("NTRAIN_MAX_ZIP_TOTAL_BYTES", e.Message);
        Assert.Empty(Written());
    }

    [Fact]
    public void An_entry_compressed_far_beyond_what_images_reach_is_skipped_unread()
    {
        var zip = MakeZip(("zeros.png", new byte[8 << 20]), ("ok.txt", "a, b"u8.ToArray()));
        var report = ZipImporter.Extract(zip, Out);
        Assert.Contains("zip bomb", report.Skipped.Single().Reason);
        Assert.Equal([Path.Combine(Out, "ok.txt")], Written());
    }

    /// <summary>Rewrites an entry's declared size (local header and central directory), keeping its CRC.</summary>
    static void Declare(string zipPath, uint size)
    {
        var bytes = File.ReadAllBytes(zipPath);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(22), size);
        var central = bytes.AsSpan().IndexOf("PK\u0001\u0002"u8);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(central + 24), size);
        File.WriteAllBytes(zipPath, bytes);
    }

    [Fact]
    public void An_entry_bigger_than_it_declares_is_refused_not_truncated_and_the_import_leaves_nothing()
    {
        var zip = MakeZip(("sub/big.txt", new byte[100_000]), ("sub/ok.txt", "fine"u8.ToArray()));
        Declare(zip, 1000);
        var e = Assert.Throws<InvalidDataException>(() => ZipImporter.Extract(zip, Out));
        Assert.Contains("sub/big.txt", e.Message);
        Assert.Contains("more data than it declares", e.Message);
        Assert.Empty(Written());
    }

    [Fact]
    public void Duplicate_names_also_by_case_do_not_overwrite_each_other()
    {
        var zip = MakeZip(("a.txt", "first"u8.ToArray()), ("A.TXT", "second"u8.ToArray()), ("a.txt", "third"u8.ToArray()));
        var report = ZipImporter.Extract(zip, Out);
        Assert.Single(report.Extracted);
        Assert.Equal("first", File.ReadAllText(Path.Combine(Out, "a.txt")));
        Assert.Equal(2, report.Skipped.Count(s => s.Reason.Contains("same name as 'a.txt'")));
    }

    [Fact]
    public void A_file_and_a_folder_of_one_name_are_skipped_not_a_crash()
    {
        var fileFirst = ZipImporter.Extract(MakeZip(("a.txt", "x"u8.ToArray()), ("a.txt/b.txt", "y"u8.ToArray())), Out);
        Assert.Contains("cannot also be a folder", fileFirst.Skipped.Single().Reason);
        var folderFirst = ZipImporter.Extract(MakeZip(("c.txt/d.txt", "y"u8.ToArray()), ("c.txt", "x"u8.ToArray())), Path.Combine(dir, "out2"));
        Assert.Contains("folder of the same name", folderFirst.Skipped.Single().Reason);
    }

    [Fact]
    public void A_symbolic_link_already_in_the_destination_is_not_followed_out_of_it()
    {
        var outside = Directory.CreateDirectory(Path.Combine(dir, "outside")).FullName;
        Directory.CreateDirectory(Out);
        Directory.CreateSymbolicLink(Path.Combine(Out, "sub"), outside);
        var report = ZipImporter.Extract(MakeZip(("sub/x.txt", "pwned"u8.ToArray())), Out);
        Assert.Contains("symbolic link", report.Skipped.Single().Reason);
        Assert.Empty(Directory.GetFileSystemEntries(outside));
    }

    [Fact]
    public void Control_characters_and_overlong_names_are_skipped_and_out_naming_a_file_is_an_error_all_exit_2_or_0_without_a_trace()
    {
        var zip = MakeZip(("a\0b.txt", "x"u8.ToArray()), ("c\u001b[2J.txt", "x"u8.ToArray()), (new string('n', 300) + ".txt", "x"u8.ToArray()), ("ok.txt", "x"u8.ToArray()));
        var run = NtrainProcess.Run(["acquire", "zip", zip, "--out", Out], TimeSpan.FromMinutes(1));
        Assert.Equal(0, run.ExitCode);
        Assert.Contains("extracted 1 files", run.Stdout);
        Assert.Equal(2, System.Text.RegularExpressions.Regex.Matches(run.Stdout, "control character").Count);
        Assert.Contains("longer than 200 bytes", run.Stdout);
        Assert.DoesNotContain('\u001b', run.Stdout);

        var file = Path.Combine(dir, "a-file");
        File.WriteAllText(file, "");
        var refused = NtrainProcess.Run(["acquire", "zip", zip, "--out", file], TimeSpan.FromMinutes(1));
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("is not a folder", refused.Stderr);
        Assert.DoesNotContain("   at ", refused.Stderr);

        var mixed = MakeZip(("a.txt", "x"u8.ToArray()), ("a.txt/b.txt", "y"u8.ToArray()));
        Assert.Equal(0, NtrainProcess.Run(["acquire", "zip", mixed, "--out", Path.Combine(dir, "out3")], TimeSpan.FromMinutes(1)).ExitCode);
    }
}
