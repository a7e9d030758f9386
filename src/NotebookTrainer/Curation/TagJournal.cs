using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using NotebookTrainer.Captions;

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
/// Each line is <c>&lt;HMAC-SHA256&gt; &lt;json&gt;</c>, keyed with this user's <see cref="JournalKey"/>. Protocol: the entry is
/// appended and flushed to disk before any caption is written, so after a crash either the entry is incomplete
/// (dropped on open; no caption was touched) or it is whole (its caption writes are rolled forward on open). Undo/redo
/// therefore survive process restarts.
/// <para>
/// The folder is untrusted: a journal whose first line is not signed with this user's key (planted in a downloaded
/// dataset, copied from another machine, or written by an older ntrain) is foreign. Nothing in it is replayed; a
/// writable journal moves it aside (<see cref="Notice"/> says where) and starts a fresh history. Every caption path,
/// signed or not, must stay inside the folder with symbolic links resolved (and out of <c>.ntrain</c>) before it is
/// read, written or deleted. A read-only journal (dry runs, statistics) writes nothing, recovery included.
/// </para>
/// </summary>
public sealed class TagJournal
{
    public const string RelativePath = ".ntrain/tag-journal.log";
    const string StateFolder = ".ntrain";

    static readonly JsonSerializerOptions Json = new()
    {
        Converters = { new JsonStringEnumConverter(allowIntegerValues: false) },
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        MaxDepth = 8,
    };

    readonly string folder;
    readonly List<JournalEntry> entries = [];
    readonly List<long> applied = [];
    readonly List<long> undone = [];

    public string Path { get; }
    public bool IsReadOnly { get; }
    public IReadOnlyList<JournalEntry> Entries => entries;
    /// <summary>Bytes of an incomplete last line that were dropped (or, read-only, skipped) on open (0 when none).</summary>
    public long DroppedTornBytes { get; }
    /// <summary>Caption files rewritten on open to finish an entry that a crash interrupted.</summary>
    public IReadOnlyList<string> RolledForward { get; }
    /// <summary>Why the journal found in the folder was not used (a foreign journal, and where it was moved), or null.</summary>
    public string? Notice { get; }

    public bool CanUndo => applied.Count > 0;
    public bool CanRedo => undone.Count > 0;
    public JournalEntry? NextUndo => applied.Count > 0 ? Edit(applied[^1]) : null;
    public JournalEntry? NextRedo => undone.Count > 0 ? Edit(undone[^1]) : null;

    TagJournal(string folder, bool readOnly)
    {
        this.folder = folder;
        IsReadOnly = readOnly;
        // .ntrain must resolve inside the folder; the journal file itself, if a link, is foreign (see Load).
        IO.UntrustedFile.Confine(folder, StateFolder);
        Path = System.IO.Path.Combine(folder, RelativePath);
        (DroppedTornBytes, Notice) = Load();
        RolledForward = readOnly ? [] : RollForwardLast();
    }

    /// <param name="readOnly">Read the history without writing anything: no torn-tail repair, no roll-forward, no edits.</param>
    public static TagJournal Open(string folder, bool readOnly = false) => new(System.IO.Path.GetFullPath(folder), readOnly);

    /// <summary>Records an edit, then writes its captions. Every file must still hold its Before content.</summary>
    public JournalEntry Record(string description, IReadOnlyList<CaptionChange> changes)
    {
        RequireWritable();
        foreach (var c in changes) RequireContent(c.File, c.Before, "was changed after the preview was made; preview the operation again");
        var entry = new JournalEntry(NextSequence(), JournalEntryKind.Edit, DateTimeOffset.UtcNow, description, null, changes);
        Append(entry);
        Write(changes, forward: true);
        return entry;
    }

    public JournalEntry Undo()
    {
        RequireWritable();
        var edit = NextUndo ?? throw new InvalidOperationException("Nothing to undo: the journal has no applied edit.");
        Revisit(edit, JournalEntryKind.Undo, $"was changed outside the journal since '{edit.Description}'; undoing would lose that change. Fix the file by hand (its before/after are in {Path})");
        return edit;
    }

    public JournalEntry Redo()
    {
        RequireWritable();
        var edit = NextRedo ?? throw new InvalidOperationException("Nothing to redo: no edit was undone since the last change.");
        Revisit(edit, JournalEntryKind.Redo, $"was changed outside the journal since '{edit.Description}' was undone; redoing would lose that change");
        return edit;
    }

    /// <summary>Undoes or redoes <paramref name="edit"/>, once every file still holds what the edit left (undo) or found (redo).</summary>
    void Revisit(JournalEntry edit, JournalEntryKind kind, string changedOutsideProblem)
    {
        var forward = kind == JournalEntryKind.Redo;
        foreach (var c in edit.Changes) RequireContent(c.File, forward ? c.Before : c.After, changedOutsideProblem);
        Append(new JournalEntry(NextSequence(), kind, DateTimeOffset.UtcNow, edit.Description, edit.Sequence, []));
        Write(edit.Changes, forward);
    }

    /// <summary>The applied edits, oldest first (what undo would walk back through).</summary>
    public IReadOnlyList<JournalEntry> AppliedEdits => applied.Select(Edit).ToList();

    long NextSequence() => entries.Count == 0 ? 1 : entries[^1].Sequence + 1;

    JournalEntry Edit(long sequence) => entries.First(e => e.Sequence == sequence && e.Kind == JournalEntryKind.Edit);

    void Track(JournalEntry e, int lineNo)
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
                throw new InvalidDataException($"{Path}:{lineNo}: entry {e.Sequence} ({e.Kind} of {e.Target}) does not follow from the entries before it. Move the journal aside to start a fresh history.");
        }
        entries.Add(e);
    }

    void RequireWritable()
    {
        if (IsReadOnly) throw new InvalidOperationException($"{Path}: the journal was opened read-only (a dry run); open the folder for editing to change captions.");
    }

    void Append(JournalEntry entry)
    {
        var json = JsonSerializer.Serialize(entry, Json);
        var line = Encoding.UTF8.GetBytes($"{JournalKey.Sign(json)} {json}\n");
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        using (var stream = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.Read))
        {
            stream.Write(line);
            stream.Flush(flushToDisk: true);
        }
        Track(entry, entries.Count + 1);
    }

    (long Dropped, string? Notice) Load()
    {
        var kind = IO.UntrustedFile.KindOf(Path);
        if (kind == IO.FileKind.Missing) return (0, null);
        if (kind != IO.FileKind.Regular) return (0, SetAside($"is {IO.UntrustedFile.Describe(kind)}, not a journal file"));
        var bytes = IO.UntrustedFile.ReadAllBytes(Path, IO.InputLimits.Current.MaxJournalBytes, nameof(IO.InputLimits.MaxJournalBytes));
        var start = 0;
        var lineNo = 0;
        while (start < bytes.Length)
        {
            lineNo++;
            var end = Array.IndexOf(bytes, (byte)'\n', start);
            if (end < 0)
            {
                // Only the tail may be torn: a crash can cut the last append short, nothing else.
                if (!IsReadOnly) Truncate(start);
                return (bytes.Length - start, null);
            }
            var json = Verified(bytes.AsSpan(start, end - start));
            if (json is null)
            {
                if (lineNo == 1) return (0, SetAside("is not signed with your journal key (it came with the folder, from another machine or user, or from an older ntrain)"));
                throw new InvalidDataException($"{Path}:{lineNo}: damaged entry in the middle of the journal (its signature does not match). It was not cut short by a crash; restore the file from a backup or move it aside.");
            }
            Track(Parse(json, lineNo), lineNo);
            start = end + 1;
        }
        return (0, null);
    }

    void Truncate(long length)
    {
        using var stream = new FileStream(Path, FileMode.Open, FileAccess.Write, FileShare.Read);
        stream.SetLength(length);
        stream.Flush(flushToDisk: true);
    }

    /// <summary>Leaves a foreign journal unread; a writable journal renames it so a fresh history can start.</summary>
    string SetAside(string why)
    {
        var message = $"{Path} {why}; none of its entries were replayed and the captions were left as they are.";
        if (IsReadOnly) return message + " It is ignored here.";
        var aside = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(Path)!, $"tag-journal.foreign-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Guid.NewGuid().ToString("N")[..6]}.log");
        File.Move(Path, aside);
        return message + $" It was moved to {aside}; undo history starts fresh.";
    }

    static string? Verified(ReadOnlySpan<byte> line)
    {
        var space = line.IndexOf((byte)' ');
        if (space != 64) return null;
        var json = line[(space + 1)..];
        if (!System.Text.Unicode.Utf8.IsValid(json)) return null;
        var text = Encoding.UTF8.GetString(json);
        var expected = Encoding.ASCII.GetBytes(JournalKey.Sign(text));
        return CryptographicOperations.FixedTimeEquals(expected, line[..space]) ? text : null;
    }

    /// <summary>A signed entry is still checked in full: a journal is data, and a caption path must stay in the folder.</summary>
    JournalEntry Parse(string json, int lineNo)
    {
        JournalEntry? entry;
        try { entry = JsonSerializer.Deserialize<JournalEntry>(json, Json); }
        catch (JsonException e) { throw Damaged(lineNo, $"not a journal entry ({e.Message})"); }
        if (entry is null || entry.Description is null || entry.Changes is null)
            throw Damaged(lineNo, "an entry without its description or changes");
        if (entry.Kind is JournalEntryKind.Undo or JournalEntryKind.Redo && entry.Target is null)
            throw Damaged(lineNo, $"an {entry.Kind} entry without the edit it refers to");
        foreach (var c in entry.Changes)
        {
            if (c?.File is null) throw Damaged(lineNo, "a change without a file name");
            CaptionPath(c.File, lineNo);
        }
        return entry;
    }

    InvalidDataException Damaged(int lineNo, string problem) =>
        new($"{Path}:{lineNo}: {problem}. Move the journal aside to start a fresh history; the captions are as they are on disk.");

    /// <summary>The full path of a caption the journal names; anything outside the folder or inside .ntrain is refused.</summary>
    string CaptionPath(string file, int? lineNo = null)
    {
        var where = lineNo is { } n ? $"{Path}:{n}" : Path;
        if (file.Length == 0 || file.Contains('\0') || System.IO.Path.IsPathRooted(file) || file.Split('/', '\\').Contains(".."))
            throw new IO.UntrustedFileException(file, $"{where}: the caption path '{IO.Printable.Escape(file)}' leaves the folder; refusing the journal. Move it aside.");
        string full;
        try { full = IO.UntrustedFile.Confine(folder, file); }
        catch (IO.UntrustedFileException e) { throw new IO.UntrustedFileException(file, $"{where}: {e.Message}"); }
        var state = System.IO.Path.Combine(folder, StateFolder);
        if (full == state || IO.UntrustedFile.IsInside(state, full))
            throw new IO.UntrustedFileException(file, $"{where}: the caption path '{IO.Printable.Escape(file)}' points into {StateFolder}; refusing the journal. Move it aside.");
        return full;
    }

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
            throw new CurationConflictException($"{CaptionPath(file)} {problem}.");
    }

    void Write(IReadOnlyList<CaptionChange> changes, bool forward)
    {
        foreach (var c in changes) WriteCaption(c.File, forward ? c.After : c.Before);
    }

    string? ReadCaption(string file)
    {
        var full = CaptionPath(file);
        return IO.UntrustedFile.KindOf(full) == IO.FileKind.Missing ? null : CaptionText.ReadFile(full, folder);
    }

    void WriteCaption(string file, string? content)
    {
        var full = CaptionPath(file);
        if (content is null) File.Delete(full);
        else IO.AtomicFile.WriteAllText(full, content);
    }
}

/// <summary>A caption on disk does not hold what the journal expects; the message names the file and what to do.</summary>
public sealed class CurationConflictException(string message) : Exception(message);
