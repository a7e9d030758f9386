using NotebookTrainer.Curation;

namespace NotebookTrainer.Tests.Curation;

public class CurationSessionTests
{
    [Fact]
    public void Activation_tag_and_remove_list_like_the_colab_seed()
    {
        using var f = new CurationTestFolder(("a", "1girl, solo, watermark"), ("b", "solo, sks, smile"), ("c", null));
        using var s = CurationSession.Open(f.Path);
        s.Apply(new AddActivationTag("sks"));
        s.Apply(new RemoveTags(["watermark", "solo"]));
        Assert.Equal("sks, 1girl\n", f.Read("a"));
        Assert.Equal("sks, smile\n", f.Read("b"));
        Assert.Equal("sks\n", f.Read("c"));
    }

    [Fact]
    public void Undo_restores_a_caption_with_a_BOM_byte_for_byte()
    {
        using var f = new CurationTestFolder(("a", "x, y"), ("b", "y, z"));
        byte[] original = [0xEF, 0xBB, 0xBF, .. "solo, y, \u00e9t\u00e9"u8];
        File.WriteAllBytes(f.Caption("a"), original);
        using (var s = CurationSession.Open(f.Path))
        {
            s.Apply(new RemoveTags(["y"]));
            Assert.Equal("solo, \u00e9t\u00e9\n", f.Read("a"));
            Assert.False(File.ReadAllBytes(f.Caption("a")).AsSpan().StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]));
        }
        using (var reopened = CurationSession.Open(f.Path))
            reopened.Undo();
        Assert.Equal(original, File.ReadAllBytes(f.Caption("a")));
        Assert.Equal("y, z", f.Read("b"));
    }

    [Fact]
    public void Preview_is_a_dry_run_and_lists_removed_and_added_tags()
    {
        using var f = new CurationTestFolder(("a", "x, y"), ("b", "y, z"));
        using var s = CurationSession.Open(f.Path);
        var plan = s.Preview(new MergeTags(["y", "z"], "w"));
        Assert.Equal("x, y", f.Read("a"));
        Assert.Equal(2, plan.Changes.Count);
        Assert.Equal(["y"], plan.Changes[0].Removed);
        Assert.Equal(["w"], plan.Changes[0].Added);
        Assert.Equal("w\n", plan.Changes[1].AfterText);
        Assert.Contains("<td>w</td>", plan.ToHtml());
    }

    [Fact]
    public void Search_and_replace_or_and_modes()
    {
        using var f = new CurationTestFolder(("a", "red hair, long hair, smile"), ("b", "red hair, short hair"), ("c", "smile"));
        using var s = CurationSession.Open(f.Path);
        var and = s.Preview(new SearchReplace(["red hair", "long hair"], ["long red hair"], SearchMode.And));
        Assert.Equal(["long red hair", "smile"], Assert.Single(and.Changes).After);

        s.Apply(new SearchReplace(["red hair", "long hair"], ["redhead"], SearchMode.Or));
        Assert.Equal("redhead, smile\n", f.Read("a"));
        Assert.Equal("redhead, short hair\n", f.Read("b"));
        Assert.Equal("smile", f.Read("c"));

        s.Apply(new SearchReplace(["smile"], ["happy"], SearchMode.Or, ReplacementFirst: true));
        Assert.Equal("happy, redhead\n", f.Read("a"));
    }

    [Fact]
    public void Prune_rare_duplicates_sort_and_per_image_edits()
    {
        using var f = new CurationTestFolder(("a", "sks, b, a, rare, a"), ("b", "sks, a, b"), ("c", "sks, b"));
        using var s = CurationSession.Open(f.Path);
        s.Apply(new PruneRareTags(2, Keep: ["sks"]));
        Assert.Equal("sks, b, a, a\n", f.Read("a"));
        s.Apply(new RemoveDuplicateTags());
        Assert.Equal("sks, b, a\n", f.Read("a"));
        s.Apply(new SortTags(TagSortOrder.Alphabetical, KeepFirst: 1));
        Assert.Equal("sks, a, b\n", f.Read("a"));
        s.Apply(new SortTags(TagSortOrder.Frequency, KeepFirst: 1));
        Assert.Equal("sks, b, a\n", f.Read("a"));
        s.Apply(new EditImageTags("c.png", Add: ["new tag", "b"], Remove: ["sks"]));
        Assert.Equal("b, new tag\n", f.Read("c"));
        Assert.Equal("sks, b, a\n", f.Read("b"));
        Assert.Throws<ArgumentException>(() => s.Preview(new EditImageTags("missing.png", ["x"], [])));
    }

    [Fact]
    public void Frequency_table_counts_images_not_occurrences_and_escapes_tags()
    {
        using var f = new CurationTestFolder(("a", "<script>alert(1)</script>, x, x"), ("b", "x"));
        using var s = CurationSession.Open(f.Path);
        var table = s.Frequencies();
        Assert.Equal(2, table.CountOf("x"));
        Assert.Equal(1.0, table.Rows[0].Fraction);
        var html = table.ToHtml();
        Assert.DoesNotContain("<script>alert", html);
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", html);
    }

    [Fact]
    public void Undo_and_redo_survive_a_restart()
    {
        using var f = new CurationTestFolder(("a", "x, y"), ("b", null));
        using (var s = CurationSession.Open(f.Path))
        {
            s.Apply(new AddActivationTag("sks"));
            s.Apply(new RemoveTags(["y"]));
        }
        Assert.Equal("sks, x\n", f.Read("a"));
        using (var s = CurationSession.Open(f.Path))
        {
            Assert.Equal("remove 'y'", s.Undo().Description);
            Assert.Equal("sks, x, y\n", f.Read("a"));
            s.Undo();
            Assert.Equal("x, y", f.Read("a"));
            Assert.False(File.Exists(f.Caption("b")));
            Assert.False(s.CanUndo);
        }
        using (var s = CurationSession.Open(f.Path))
        {
            Assert.True(s.CanRedo);
            s.Redo();
            Assert.Equal("sks\n", f.Read("b"));
            s.Apply(new AddActivationTag("other"));
            Assert.False(s.CanRedo);
        }
    }

    [Fact]
    public void Undo_refuses_to_overwrite_a_caption_changed_outside_the_journal()
    {
        using var f = new CurationTestFolder(("a", "x"));
        using var s = CurationSession.Open(f.Path);
        s.Apply(new AddActivationTag("sks"));
        File.WriteAllText(f.Caption("a"), "hand edit");
        var e = Assert.Throws<CurationConflictException>(() => s.Undo());
        Assert.Contains("a.txt", e.Message);
        Assert.Equal("hand edit", f.Read("a"));
    }

    [Fact]
    public void A_stale_preview_is_not_applied()
    {
        using var f = new CurationTestFolder(("a", "x"));
        using var s = CurationSession.Open(f.Path);
        var plan = s.Preview(new AddActivationTag("sks"));
        File.WriteAllText(f.Caption("a"), "x, y");
        Assert.Throws<CurationConflictException>(() => s.Apply(plan));
        Assert.Equal("x, y", f.Read("a"));
    }

    [Fact]
    public void A_second_session_on_the_folder_is_refused_with_a_clear_message()
    {
        using var f = new CurationTestFolder(("a", "x"));
        using (var first = CurationSession.Open(f.Path, holder: "notebook 03"))
        {
            var e = Assert.Throws<CurationLockedException>(() => CurationSession.Open(f.Path));
            Assert.Contains("notebook 03", e.Message);
            Assert.Contains(f.Path, e.Message);
        }
        using var again = CurationSession.Open(f.Path);
    }
}
