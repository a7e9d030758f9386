using System.Text;
using NotebookTrainer.Configuration;
using NotebookTrainer.Datasets.Config;

namespace NotebookTrainer.Datasets.Captions;

/// <summary>Reads the caption kohya would use for a DreamBooth-style image, reporting what is wrong instead of failing.</summary>
public static class CaptionFile
{
    static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>kohya joins the image path without its extension and caption_extension as given (".txt").</summary>
    public static string PathFor(string imagePath, string captionExtension) =>
        Path.Combine(Path.GetDirectoryName(imagePath) ?? "", Path.GetFileNameWithoutExtension(imagePath)) + captionExtension;

    /// <summary>
    /// The caption for <paramref name="imagePath"/>: first line of the caption file stripped (all non-empty lines joined
    /// with "\n" when enable_wildcard), else class_tokens, else "" with a warning. Returns null when the image must be
    /// skipped (the caption file is empty or not UTF-8; kohya would stop there).
    /// </summary>
    public static string? Read(string imagePath, SubsetOptions subset, ICollection<DatasetProblem> problems)
    {
        var path = PathFor(imagePath, subset.CaptionExtension);
        if (IO.UntrustedFile.KindOf(path) == IO.FileKind.Missing)
        {
            if (!string.IsNullOrEmpty(subset.ClassTokens)) return subset.ClassTokens;
            problems.Add(DatasetProblem.Warning(imagePath, $"no caption file ({Path.GetFileName(path)}) and no class_tokens: trains with an empty caption. Add the caption file or set class_tokens."));
            return "";
        }
        var text = Decode(path, problems);
        if (text == null) return null;
        var lines = text.Split('\n').Select(l => l.Trim()).ToList();
        if (text.Length == 0)
        {
            problems.Add(DatasetProblem.Error(path, "caption file is empty (kohya stops on it); write the caption on its first line or delete the file to fall back to class_tokens."));
            return null;
        }
        var caption = subset.EnableWildcard
            ? string.Join('\n', lines.Where(l => l.Length > 0))
            : lines[0];
        if (caption.Length == 0)
            problems.Add(DatasetProblem.Warning(path, "the first line of the caption file is blank, so the caption is empty; put the caption on the first line."));
        return caption;
    }

    /// <summary>
    /// UTF-8 with a leading BOM stripped (warning); invalid UTF-8 is an error naming the offset, and so is a caption
    /// that is not a regular file (a FIFO, a device, a folder) or is larger than <see cref="IO.InputLimits.MaxCaptionBytes"/>.
    /// </summary>
    public static string? Decode(string path, ICollection<DatasetProblem> problems)
    {
        byte[] bytes;
        try { bytes = IO.UntrustedFile.ReadAllBytes(path, IO.InputLimits.Current.MaxCaptionBytes, nameof(IO.InputLimits.MaxCaptionBytes)); }
        catch (IO.UntrustedFileException e)
        {
            problems.Add(DatasetProblem.Error(path, e.Reason));
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problems.Add(DatasetProblem.Error(path, $"cannot read the caption file: {e.Message}"));
            return null;
        }
        var start = 0;
        if (bytes.AsSpan().StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            start = 3;
            // kohya reads with encoding="utf-8", which keeps U+FEFF glued to the first tag; we strip it.
            problems.Add(DatasetProblem.Warning(path, "caption file starts with a UTF-8 BOM; it was stripped here, but kohya keeps it in the first tag. Re-save as UTF-8 without BOM."));
        }
        else if (bytes.AsSpan().StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]) || bytes.AsSpan().StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]))
        {
            problems.Add(DatasetProblem.Error(path, "caption file is UTF-16; kohya reads UTF-8 only. Re-save it as UTF-8."));
            return null;
        }
        try
        {
            return StrictUtf8.GetString(bytes, start, bytes.Length - start);
        }
        catch (DecoderFallbackException e)
        {
            var offset = start + Math.Max(0, e.Index);
            problems.Add(DatasetProblem.Error(path, $"caption file is not valid UTF-8 (byte 0x{bytes[Math.Min(offset, bytes.Length - 1)]:X2} at offset {offset}); kohya would stop with a UnicodeDecodeError. Re-save it as UTF-8."));
            return null;
        }
    }
}
