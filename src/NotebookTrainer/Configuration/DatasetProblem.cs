namespace NotebookTrainer.Configuration;

public enum ProblemSeverity { Warning, Error }

/// <summary>
/// Something wrong with an input: a dataset's file, or an entry of a dataset or training config. <see cref="File"/> is the file it is about; <see cref="Line"/>
/// and <see cref="Key"/> (a key path such as <c>datasets[0].subsets[0].image_dir</c>) are set for config entries.
/// The message says what is wrong and how to fix it.
/// </summary>
public sealed record DatasetProblem(ProblemSeverity Severity, string File, string Message, int? Line = null, string? Key = null)
{
    public bool IsError => Severity == ProblemSeverity.Error;

    public static DatasetProblem Error(string file, string message, int? line = null, string? key = null) => new(ProblemSeverity.Error, file, message, line, key);
    public static DatasetProblem Warning(string file, string message, int? line = null, string? key = null) => new(ProblemSeverity.Warning, file, message, line, key);

    public override string ToString()
    {
        var where = Line is { } l ? $"{File}:{l}" : File;
        var key = Key is null ? "" : $" {Key}:";
        return $"{where}:{key} {(IsError ? "error" : "warning")}: {Message}";
    }
}
