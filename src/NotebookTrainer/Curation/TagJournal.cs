using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace NotebookTrainer.Curation;

/// <summary>One caption file's content before and after an edit; null means the file does not exist.</summary>
public sealed record CaptionChange(string File, string? Before, string? After);

public enum JournalEntryKind { Edit, Undo, Redo }

/// <summary>
/// One journal line. An Edit carries every changed caption in full (before and after); Undo and Redo name the edit
/// they reverse or replay by <see cref="Target"/>.
/// </summary>
public sealed record JournalEntry(long Sequence, JournalEntryKind Kind, DateTimeOffset Time, string Description,
    long? Target, IReadOnlyList<CaptionChange> Changes);

/// <summary>
/// An append-only, fsynced log of caption edits stored in the curated folder (<c>.ntrain/tag-journal.log</c>).
/// Each line is <c>&lt;sha256 prefix&gt; &lt;json&gt;</c>. Protocol: the entry is appended and flushed to disk before any
/// caption is written, so after a crash either the entry is incomplete (dropped on open; no caption was touched) or
/// it is whole (its caption writes are rolled forward on open). Undo/redo therefore survive process restarts.
/// </summary>
public sealed class TagJournal
{
    public const string RelativePath = ".ntrain/tag-journal.log";

    static readonly JsonSerializerOptions Json = new()
    {
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    readonly string folder;
    readonly List<JournalEntry> entries = [];
    readonly List<long> applied = [];
    readonly List<long> undone = [];

    public string Path { get; }
    public IReadOnlyList<JournalEntry> Entries => entries;
    /// <summary>Bytes of an incomplete last line that were dropped when the journal was opened (0 when none).</summary>
    public long DroppedTornBytes { get; }
    /// <summary>Caption files rewritten on open to finish an entry that a crash interrupted.</summary>
    public IReadOnlyList<string> RolledForward { get; }

    public bool CanUndo => applied.Count > 0;
    public bool CanRedo => undone.Count > 0;
    public JournalEntry? NextUndo => applied.Count > 0 ? Edit(applied[^1]) : null;
    public JournalEntry? NextRedo => undone.Count > 0 ? Edit(undone[^1]) : null;

    TagJournal(string folder)
    {
        this.folder = folder;
        Path = System.IO.Path.Combine(folder, RelativePath);
        DroppedTornBytes = Load();
        RolledForward = RollForwardLast();
    }

    public static TagJournal Open(string folder) => new(System.IO.Path.GetFullPath(folder));

    /// <summary>Records an edit, then writes its captions. Every file must still hold its Before content.</summary>
    public JournalEntry Record(string description, IReadOnlyList<CaptionChange> changes)
    {
        foreach (var c in changes) RequireContent(c.File, c.Before, "was changed after the preview was made; preview the operation again");
        var entry = new JournalEntry(NextSequence(), JournalEntryKind.Edit, DateTimeOffset.UtcNow, description, null, changes);
        Append(entry);
        Write(changes, forward: true);
        return entry;
    }

    public JournalEntry Undo()
    {
        var edit = NextUndo ?? throw new InvalidOperationException("Nothing to undo: the journal has no applied edit.");
        foreach (var c in edit.Changes) RequireContent(c.File, c.After, $"was changed outside the journal since '{edit.Description}'; undoing would lose that change. Fix the file by hand (its before/after are in {Path})");
        var entry = new JournalEntry(NextSequence(), JournalEntryKind.Undo, DateTimeOffset.UtcNow, edit.Description, edit.Sequence, []);
        Append(entry);
        Write(edit.Changes, forward: false);
        return edit;
    }

    public JournalEntry Redo()
    {
        var edit = NextRedo ?? throw new InvalidOperationException("Nothing to redo: no edit was undone since the last change.");
        foreach (var c in edit.Changes) RequireContent(c.File, c.Before, $"was changed outside the journal since '{edit.Description}' was undone; redoing would lose that change");
        var entry = new JournalEntry(NextSequence(), JournalEntryKind.Redo, DateTimeOffset.UtcNow, edit.Description, edit.Sequence, []);
        Append(entry);
        Write(edit.Changes, forward: true);
        return edit;
    }

    /// <summary>The applied edits, oldest first (what undo would walk back through).</summary>
    public IReadOnlyList<JournalEntry> AppliedEdits => applied.Select(Edit).ToList();

    long NextSequence() => entries.Count == 0 ? 1 : entries[^1].Sequence + 1;

    JournalEntry Edit(long sequence) => entries.First(e => e.Sequence == sequence && e.Kind == JournalEntryKind.Edit);

    void Track(JournalEntry e)
    {
        switch (e.Kind)
        {
            case JournalEntryKind.Edit:
                applied.Add(e.Sequence);
                undone.Clear();
                break;
            case JournalEntryKind.Undo when applied.Count > 0 && applied[^1] == e.Target:
                applied.RemoveAt(applied.Count - 1);
                undone.Add(e.Target!.Value);
                break;
            case JournalEntryKind.Redo when undone.Count > 0 && undone[^1] == e.Target:
                undone.RemoveAt(undone.Count - 1);
                applied.Add(e.Target!.Value);
                break;
            default:
                throw new InvalidDataException($"{Path}: entry {e.Sequence} ({e.Kind} of {e.Target}) does not follow from the entries before it. The journal was edited by hand; move it aside to start a fresh history.");
        }
        entries.Add(e);
    }

    void Append(JournalEntry entry)
    {
        var json = JsonSerializer.Serialize(entry, Json);
        var line = Encoding.UTF8.GetBytes($"{Checksum(json)} {json}\n");
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        using (var stream = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.Read))
        {
            stream.Write(line);
            stream.Flush(flushToDisk: true);
        }
        Track(entry);
    }

    long Load()
    {
        if (!File.Exists(Path)) return 0;
        var bytes = File.ReadAllBytes(Path);
        var start = 0;
        var lineNo = 0;
        while (start < bytes.Length)
        {
            lineNo++;
            var end = Array.IndexOf(bytes, (byte)'\n', start);
            var entry = end < 0 ? null : Parse(bytes.AsSpan(start, end - start));
            if (entry is null)
            {
                // Only the tail may be torn: a crash can cut the last append short, nothing else.
                if (end >= 0 && end + 1 < bytes.Length)
                    throw new InvalidDataException($"{Path}:{lineNo}: damaged entry in the middle of the journal (checksum mismatch). It was not cut short by a crash; restore the file from a backup or move it aside.");
                using var stream = new FileStream(Path, FileMode.Open, FileAccess.Write, FileShare.Read);
                stream.SetLength(start);
                stream.Flush(flushToDisk: true);
                return bytes.Length - start;
            }
            Track(entry);
            start = end + 1;
        }
        return 0;
    }

    static JournalEntry? Parse(ReadOnlySpan<byte> line)
    {
        var text = Encoding.UTF8.GetString(line);
        var space = text.IndexOf(' ');
        if (space <= 0) return null;
        var json = text[(space + 1)..];
        if (text[..space] != Checksum(json)) return null;
        try { return JsonSerializer.Deserialize<JournalEntry>(json, Json); }
        catch (JsonException) { return null; }
    }

    static string Checksum(string json) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(json)))[..16];

    /// <summary>Finishes the caption writes of the last entry if a crash stopped them part-way.</summary>
    List<string> RollForwardLast()
    {
        var fixedFiles = new List<string>();
        if (entries.Count == 0) return fixedFiles;
        var last = entries[^1];
        var edit = last.Kind == JournalEntryKind.Edit ? last : Edit(last.Target!.Value);
        var forward = last.Kind != JournalEntryKind.Undo;
        foreach (var c in edit.Changes)
        {
            var (from, to) = forward ? (c.Before, c.After) : (c.After, c.Before);
            var current = ReadCaption(c.File);
            if (current == to || current != from) continue;
            WriteCaption(c.File, to);
            fixedFiles.Add(c.File);
        }
        return fixedFiles;
    }

    void RequireContent(string file, string? expected, string problem)
    {
        if (ReadCaption(file) != expected)
            throw new CurationConflictException($"{System.IO.Path.Combine(folder, file)} {problem}.");
    }

    void Write(IReadOnlyList<CaptionChange> changes, bool forward)
    {
        foreach (var c in changes) WriteCaption(c.File, forward ? c.After : c.Before);
    }

    string? ReadCaption(string file)
    {
        var full = System.IO.Path.Combine(folder, file);
        return File.Exists(full) ? CaptionText.ReadFile(full) : null;
    }

    void WriteCaption(string file, string? content)
    {
        var full = System.IO.Path.Combine(folder, file);
        if (content is null) File.Delete(full);
        else IO.AtomicFile.WriteAllText(full, content);
    }
}

/// <summary>A caption on disk does not hold what the journal expects; the message names the file and what to do.</summary>
public sealed class CurationConflictException(string message) : Exception(message);
