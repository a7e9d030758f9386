using System.Text;

namespace NotebookTrainer.Captions;

/// <summary>
/// Reads and writes booru-style caption lines. Tolerant on input (commas, full-width commas and line breaks all
/// separate tags; surrounding whitespace and empty tags are dropped; Unicode is normalised to NFC) and canonical on
/// output: tags joined with ", " on one line.
/// </summary>
public static class CaptionText
{
    public const string Separator = ", ";
    static readonly char[] Separators = [',', '\uFF0C', '\u3001', '\n', '\r'];

    /// <summary>The tags of a caption in file order; duplicates are kept (removing them is an explicit operation).</summary>
    public static List<string> Parse(string? caption)
    {
        var tags = new List<string>();
        if (string.IsNullOrEmpty(caption)) return tags;
        foreach (var part in caption.TrimStart('\uFEFF').Split(Separators))
        {
            var t = CollapseWhitespace(part).Normalize(NormalizationForm.FormC);
            if (t.Length > 0) tags.Add(t);
        }
        return tags;
    }

    /// <summary>
    /// A caption file's text exactly as stored: a leading BOM stays in the text as U+FEFF (File.ReadAllText would
    /// drop it), so the journal's before-text, written back on undo, restores the file byte for byte. Only a regular
    /// file up to <see cref="IO.InputLimits.MaxCaptionBytes"/> is read, inside <paramref name="root"/> when given.
    /// </summary>
    public static string ReadFile(string path, string? root = null) =>
        ExactUtf8.GetString(IO.UntrustedFile.ReadAllBytes(path, IO.InputLimits.Current.MaxCaptionBytes, nameof(IO.InputLimits.MaxCaptionBytes), root));

    static readonly UTF8Encoding ExactUtf8 = new(encoderShouldEmitUTF8Identifier: false);

    public static string Format(IEnumerable<string> tags) => string.Join(Separator, tags);

    /// <summary>Normalises a tag typed by a user the same way <see cref="Parse"/> normalises file content.</summary>
    public static string Normalize(string tag) => CollapseWhitespace(tag).Normalize(NormalizationForm.FormC);

    static string CollapseWhitespace(string s)
    {
        var sb = new StringBuilder(s.Length);
        var pendingSpace = false;
        foreach (var c in s)
        {
            if (char.IsWhiteSpace(c) || char.IsControl(c)) { pendingSpace = sb.Length > 0; continue; }
            if (pendingSpace) { sb.Append(' '); pendingSpace = false; }
            sb.Append(c);
        }
        return sb.ToString();
    }
}
