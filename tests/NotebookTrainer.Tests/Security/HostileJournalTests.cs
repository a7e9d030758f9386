using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using NotebookTrainer.Curation;
using NotebookTrainer.Tests.Curation;

namespace NotebookTrainer.Tests.Security;

/// <summary>A caption journal that came with a dataset is untrusted: it never writes or deletes outside the folder.</summary>
public sealed class HostileJournalTests : IDisposable
{
    readonly string outside = Directory.CreateTempSubdirectory("nt-outside-").FullName;

    public void Dispose() => Directory.Delete(outside, recursive: true);

    static string EditEntry(long sequence, params (string? File, string? Before, string? After)[] changes) => JsonSerializer.Serialize(new
    {
        Sequence = sequence, Kind = "Edit", Time = DateTimeOffset.UnixEpoch, Description = "planted", Target = (long?)null,
        Changes = changes.Select(c => new { c.File, c.Before, c.After }),
    });

    /// <summary>The unkeyed checksum journals carried before they were signed: anyone can compute it.</summary>
    static string UnkeyedLine(string json) => $"{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(json)))[..16]} {json}\n";

    static string SignedLine(string json) => $"{JournalKey.Sign(json)} {json}\n";

    static void Plant(string folder, string lines)
    {
        Directory.CreateDirectory(Path.Combine(folder, ".ntrain"));
        File.WriteAllText(Path.Combine(folder, TagJournal.RelativePath), lines);
    }

    static string[] Snapshot(string folder) => Directory.EnumerateFileSystemEntries(folder, "*", SearchOption.AllDirectories)
        .Select(p => $"{Path.GetRelativePath(folder, p)}:{(File.Exists(p) ? Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(p))) : "dir")}")
        .Order(StringComparer.Ordinal).ToArray();

    [Fact]
    public void A_planted_journal_with_paths_outside_the_folder_neither_creates_nor_deletes_files_there()
    {
        using var f = new CurationTestFolder(("a", "x, x, y"));
        var relativeVictim = Path.Combine(outside, "created-by-dry-run");
        var absoluteVictim = Path.Combine(outside, "created-absolute");
        var existing = Path.Combine(outside, "existing");
        File.WriteAllText(existing, "keep me");
        var escape = Path.GetRelativePath(f.Path, relativeVictim);
        Assert.StartsWith("..", escape);
        Plant(f.Path, UnkeyedLine(EditEntry(1, (escape, null, "pwned"), (absoluteVictim, null, "pwned"), (existing, null, "keep me"))));
        var before = Snapshot(f.Path);

        var dryRun = NtrainProcess.Run(["tags", "edit", f.Path, "--dedupe", "--dry-run"], TimeSpan.FromMinutes(1));
        Assert.Equal(0, dryRun.ExitCode);
        Assert.False(File.Exists(relativeVictim), "a dry run wrote outside the folder");
        Assert.False(File.Exists(absoluteVictim), "a dry run wrote an absolute path");
        Assert.Equal(before, Snapshot(f.Path));   // a dry run writes nothing, not even recovery or a lock
        Assert.Contains("not signed", dryRun.Stderr);

        var undo = NtrainProcess.Run(["tags", "undo", f.Path], TimeSpan.FromMinutes(1));
        Assert.Equal(2, undo.ExitCode);
        Assert.Contains("Nothing to undo", undo.Stderr);
        Assert.Equal("keep me", File.ReadAllText(existing));
        Assert.False(File.Exists(relativeVictim) || File.Exists(absoluteVictim));
        Assert.Equal("x, x, y", f.Read("a"));
        // The foreign journal was kept, renamed, for the user to look at.
        Assert.Single(Directory.GetFiles(Path.Combine(f.Path, ".ntrain"), "tag-journal.foreign-*.log"));
    }

    [Fact]
    public void A_signed_entry_that_leaves_the_folder_is_refused_before_anything_is_written()
    {
        using var f = new CurationTestFolder(("a", "x"));
        var victim = Path.Combine(outside, "victim");
        foreach (var file in new[] { Path.GetRelativePath(f.Path, victim), victim, ".ntrain/curation.owner", "a.txt\0b" })
        {
            Plant(f.Path, SignedLine(EditEntry(1, (file, null, "pwned"))));
            var e = Assert.ThrowsAny<IOException>(() => CurationSession.Open(f.Path));
            Assert.Contains("tag-journal.log:1", e.Message);
            Assert.DoesNotContain('\n', e.Message);
            Assert.False(File.Exists(victim));
        }
    }

    [Fact]
    public void A_symbolic_link_in_a_caption_path_cannot_lead_the_journal_out_of_the_folder()
    {
        using var f = new CurationTestFolder(("a", "x"));
        File.CreateSymbolicLink(Path.Combine(f.Path, "sub"), outside);
        File.WriteAllText(Path.Combine(outside, "b.txt"), "old");
        Plant(f.Path, SignedLine(EditEntry(1, ("sub/b.txt", "old", "pwned"), ("sub/new.txt", null, "pwned"))));
        var e = Assert.Throws<NotebookTrainer.IO.UntrustedFileException>(() => CurationSession.Open(f.Path));
        Assert.Contains("outside", e.Message);
        Assert.Equal("old", File.ReadAllText(Path.Combine(outside, "b.txt")));
        Assert.False(File.Exists(Path.Combine(outside, "new.txt")));
    }

    [Fact]
    public void A_state_folder_or_journal_that_links_out_of_the_folder_is_not_written_through()
    {
        using var f = new CurationTestFolder(("a", "x"));
        Directory.CreateSymbolicLink(Path.Combine(f.Path, ".ntrain"), outside);
        Assert.Throws<NotebookTrainer.IO.UntrustedFileException>(() => CurationSession.Open(f.Path));
        Assert.Empty(Directory.EnumerateFileSystemEntries(outside));

        using var g = new CurationTestFolder(("a", "x"));
        var target = Path.Combine(outside, "journal-target");
        File.WriteAllText(target, "");
        Directory.CreateDirectory(Path.Combine(g.Path, ".ntrain"));
        File.CreateSymbolicLink(Path.Combine(g.Path, TagJournal.RelativePath), target);
        using (var s = CurationSession.Open(g.Path))
        {
            Assert.Contains("symbolic link", s.Journal.Notice);
            s.Apply(new AddActivationTag("sks"));
        }
        Assert.Equal("", File.ReadAllText(target));
        Assert.Equal("sks, x\n", g.Read("a"));
    }

    [Fact]
    public void A_dry_run_does_not_roll_forward_or_repair_the_journal()
    {
        using var f = new CurationTestFolder(("a", "x"), ("b", "y"));
        using (var s = CurationSession.Open(f.Path)) s.Apply(new AddActivationTag("sks"));
        File.WriteAllText(f.Caption("b"), "y");   // the crash window: entry written, b.txt not yet
        var journal = Path.Combine(f.Path, TagJournal.RelativePath);
        File.AppendAllText(journal, "0123 {\"Sequence\":2,");   // and a torn tail
        var before = Snapshot(f.Path);
        using (var s = CurationSession.Open(f.Path, readOnly: true))
        {
            Assert.Empty(s.Journal.RolledForward);
            Assert.True(s.Journal.DroppedTornBytes > 0);
            s.Preview(new RemoveDuplicateTags());
            Assert.Throws<InvalidOperationException>(() => s.Undo());
        }
        Assert.Equal(before, Snapshot(f.Path));
        using (var s = CurationSession.Open(f.Path)) Assert.Single(s.Journal.RolledForward);
        Assert.Equal("sks, y\n", f.Read("b"));
    }

    [Theory]
    [InlineData("{\"Sequence\":1,\"Kind\":\"Edit\",\"Time\":\"2024-01-01T00:00:00+00:00\",\"Description\":\"d\",\"Target\":null,\"Changes\":null}", "without its description or changes")]
    [InlineData("{\"Sequence\":1,\"Kind\":\"Edit\",\"Time\":\"2024-01-01T00:00:00+00:00\",\"Description\":\"d\",\"Target\":null,\"Changes\":[{\"File\":null,\"Before\":null,\"After\":\"x\"}]}", "without a file name")]
    [InlineData("{\"Sequence\":1,\"Kind\":\"Edit\",\"Time\":\"2024-01-01T00:00:00+00:00\",\"Description\":\"d\",\"Target\":null,\"Changes\":[null]}", "without a file name")]
    [InlineData("{\"Sequence\":1,\"Kind\":\"Undo\",\"Time\":\"2024-01-01T00:00:00+00:00\",\"Description\":\"d\",\"Target\":null,\"Changes\":[]}", "without the edit it refers to")]
    [InlineData("{\"Sequence\":1,\"Kind\":7,\"Time\":\"2024-01-01T00:00:00+00:00\",\"Description\":\"d\",\"Target\":null,\"Changes\":[]}", "not a journal entry")]
    public void A_malformed_signed_entry_is_a_one_line_error_naming_the_journal_line(string json, string expected)
    {
        using var f = new CurationTestFolder(("a", "x"));
        Plant(f.Path, SignedLine(json));
        var (code, stdout, stderr) = NtrainProcess.Run(["tags", "undo", f.Path], TimeSpan.FromMinutes(1));
        Assert.Equal(2, code);
        Assert.Contains("tag-journal.log:1", stderr);
        Assert.Contains(expected, stderr);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.Equal("x", f.Read("a"));
    }

    [Fact]
    public void The_journal_key_is_made_once_private_to_the_user_outside_any_dataset()
    {
        using var f = new CurationTestFolder(("a", "x"));
        var keyDir = Path.Combine(outside, "data");
        void Configure(System.Diagnostics.ProcessStartInfo start) => start.Environment["NTRAIN_DATA_DIR"] = keyDir;
        Assert.Equal(0, NtrainProcess.Run(["tags", "edit", f.Path, "--activation", "sks"], TimeSpan.FromMinutes(1), Configure).ExitCode);
        var key = Path.Combine(keyDir, "journal.key");
        Assert.Equal(32, new FileInfo(key).Length);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(key));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(keyDir));
        }
        // Signed with that key, the history undoes in a later process with the same key...
        Assert.Equal(0, NtrainProcess.Run(["tags", "undo", f.Path], TimeSpan.FromMinutes(1), Configure).ExitCode);
        Assert.Equal("x", f.Read("a"));
        Assert.Equal(0, NtrainProcess.Run(["tags", "redo", f.Path], TimeSpan.FromMinutes(1), Configure).ExitCode);
        // ...but for another user (another key) the same journal is foreign: set aside, nothing undone.
        var other = NtrainProcess.Run(["tags", "undo", f.Path], TimeSpan.FromMinutes(1), s => s.Environment["NTRAIN_DATA_DIR"] = Path.Combine(outside, "other"));
        Assert.Equal(2, other.ExitCode);
        Assert.Contains("not signed", other.Stderr);
        Assert.Equal("sks, x\n", f.Read("a"));
    }
}
