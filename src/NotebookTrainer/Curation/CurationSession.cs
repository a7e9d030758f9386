using NotebookTrainer.Captions;
using NotebookTrainer.Images;

namespace NotebookTrainer.Curation;

/// <summary>One image of the curated folder with its current caption tags.</summary>
public sealed record CaptionEntry(string ImagePath, string CaptionPath, IReadOnlyList<string> Tags, bool HasCaption);

/// <summary>
/// Curates the captions of one folder: previews (dry runs) and applies tag operations, every applied edit going
/// through the folder's <see cref="TagJournal"/> so it can be undone and redone, also after a restart. Holds the
/// folder's <see cref="CurationLock"/> while open. Captions are re-read from disk for every preview. A read-only
/// session (dry runs, statistics) takes no lock and writes nothing, not even journal recovery.
/// </summary>
public sealed class CurationSession : IDisposable
{
    readonly CurationLock? folderLock;

    public string Folder { get; }
    public string CaptionExtension { get; }
    public Tagging.SelectedTags? SelectedTags { get; }
    public TagJournal Journal { get; }

    public bool IsReadOnly => Journal.IsReadOnly;

    CurationSession(string folder, string captionExtension, Tagging.SelectedTags? tagList, CurationLock? folderLock)
    {
        Folder = folder;
        CaptionExtension = captionExtension;
        SelectedTags = tagList;
        this.folderLock = folderLock;
        try
        {
            Journal = TagJournal.Open(folder, readOnly: folderLock is null);
        }
        catch
        {
            folderLock?.Dispose();
            throw;
        }
    }

    /// <param name="holder">Who holds the folder, shown to a second session that is refused (e.g. "pruning page at http://…").</param>
    /// <param name="readOnly">Preview and read only: no lock, no journal recovery, <see cref="Apply(EditPlan)"/>, undo and redo refused.</param>
    public static CurationSession Open(string folder, string captionExtension = ".txt", Tagging.SelectedTags? tagList = null, string holder = "a curation session", bool readOnly = false)
    {
        var full = Path.GetFullPath(folder);
        if (!Directory.Exists(full)) throw new DirectoryNotFoundException($"{full}: folder not found; give the folder that holds the images and their {captionExtension} captions.");
        if (!captionExtension.StartsWith('.')) throw new ArgumentException($"caption extension '{captionExtension}' must start with a dot, e.g. .txt", nameof(captionExtension));
        return new CurationSession(full, captionExtension, tagList, readOnly ? null : CurationLock.Acquire(full, holder));
    }

    public IReadOnlyList<CaptionEntry> Captions()
    {
        var list = new List<CaptionEntry>();
        foreach (var image in ImageFiles.Enumerate(Folder))
        {
            var caption = ImageFiles.CaptionPathFor(image, CaptionExtension);
            var exists = IO.UntrustedFile.KindOf(caption) != IO.FileKind.Missing;
            list.Add(new CaptionEntry(image, caption, exists ? CaptionText.Parse(CaptionText.ReadFile(caption, Folder)) : [], exists));
        }
        return list;
    }

    public TagFrequencyTable Frequencies() => TagFrequencyTable.From(Captions().Select(c => c.Tags).ToList(), SelectedTags);

    /// <summary>A dry run: the captions <paramref name="operation"/> would change. Nothing is written.</summary>
    public EditPlan Preview(TagOperation operation)
    {
        var captions = Captions();
        var counts = TagFrequencyTable.From(captions.Select(c => c.Tags).ToList()).Rows.ToDictionary(r => r.Tag, r => r.Images, StringComparer.Ordinal);
        var diffs = new List<CaptionDiff>();
        foreach (var c in captions)
        {
            var after = operation.Transform(c.ImagePath, [.. c.Tags], counts);
            if (after.SequenceEqual(c.Tags, StringComparer.Ordinal) && c.HasCaption) continue;
            if (!c.HasCaption && after.Count == 0) continue;
            var beforeText = c.HasCaption ? CaptionText.ReadFile(c.CaptionPath, Folder) : null;
            var afterText = CaptionText.Format(after) + "\n";
            if (afterText == beforeText) continue;
            diffs.Add(new CaptionDiff(c.ImagePath, c.CaptionPath, c.Tags, after, beforeText, afterText));
        }
        if (operation is EditImageTags edit && !captions.Any(c => edit.Targets(c.ImagePath)))
            throw new ArgumentException($"{Path.Combine(Folder, edit.Image)}: no such image in the folder; give an image file name such as 000.png.");
        return new EditPlan(operation.Describe(), diffs);
    }

    /// <summary>Previews and applies <paramref name="operation"/>; returns what changed.</summary>
    public EditPlan Apply(TagOperation operation)
    {
        var plan = Preview(operation);
        Apply(plan);
        return plan;
    }

    /// <summary>Applies a previewed plan through the journal. Fails, writing nothing, if a caption changed since the preview.</summary>
    public void Apply(EditPlan plan)
    {
        if (plan.IsEmpty) return;
        Journal.Record(plan.Description, plan.Changes.Select(c => new CaptionChange(Path.GetRelativePath(Folder, c.CaptionFile), c.BeforeText, c.AfterText)).ToList());
    }

    public bool CanUndo => Journal.CanUndo;
    public bool CanRedo => Journal.CanRedo;

    /// <summary>Reverts the last applied edit; returns it.</summary>
    public JournalEntry Undo() => Journal.Undo();

    public JournalEntry Redo() => Journal.Redo();

    public void Dispose() => folderLock?.Dispose();
}
