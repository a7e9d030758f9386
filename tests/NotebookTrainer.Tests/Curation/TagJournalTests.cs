using System.Text;
using NotebookTrainer.Curation;

namespace NotebookTrainer.Tests.Curation;

public class TagJournalTests
{
    [Fact]
    public void A_torn_last_entry_is_dropped_and_no_caption_is_lost()
    {
        using var f = new CurationTestFolder(("a", "x, y"));
        using (var s = CurationSession.Open(f.Path)) s.Apply(new AddActivationTag("sks"));
        var journal = Path.Combine(f.Path, TagJournal.RelativePath);
        var whole = File.ReadAllBytes(journal);

        // A crash in the middle of appending the next entry: half a line, no newline, captions untouched.
        var torn = Encoding.UTF8.GetBytes("0123456789abcdef {\"Sequence\":2,\"Kind\":\"Edit\",\"Desc");
        File.WriteAllBytes(journal, [.. whole, .. torn]);

        using (var s = CurationSession.Open(f.Path))
        {
            Assert.Equal(torn.Length, s.Journal.DroppedTornBytes);
            Assert.Equal(whole, File.ReadAllBytes(journal));
            Assert.Equal("sks, x, y\n", f.Read("a"));
            s.Undo();
            Assert.Equal("x, y", f.Read("a"));
        }
    }

    [Fact]
    public void A_whole_entry_whose_caption_writes_were_cut_off_is_rolled_forward()
    {
        using var f = new CurationTestFolder(("a", "x"), ("b", "y"));
        using (var s = CurationSession.Open(f.Path)) s.Apply(new AddActivationTag("sks"));
        // Simulate the crash window: the journal holds the entry but b.txt was not yet rewritten.
        File.WriteAllText(f.Caption("b"), "y");
        using var again = CurationSession.Open(f.Path);
        Assert.Equal([Path.GetFileName(f.Caption("b"))], again.Journal.RolledForward);
        Assert.Equal("sks, y\n", f.Read("b"));
    }

    [Fact]
    public void Damage_in_the_middle_of_the_journal_is_reported_not_silently_dropped()
    {
        using var f = new CurationTestFolder(("a", "x"));
        using (var s = CurationSession.Open(f.Path))
        {
            s.Apply(new AddActivationTag("sks"));
            s.Apply(new RemoveTags(["x"]));
        }
        var journal = Path.Combine(f.Path, TagJournal.RelativePath);
        var bytes = File.ReadAllBytes(journal);
        bytes[Array.IndexOf(bytes, (byte)'\n') + 20] ^= 0x20;   // line 2 (a damaged first line makes the journal foreign)
        File.WriteAllBytes(journal, bytes);
        var e = Assert.Throws<InvalidDataException>(() => CurationSession.Open(f.Path));
        Assert.Contains("tag-journal.log:2", e.Message);
    }
}
