namespace NotebookTrainer.Training;

/// <summary>One problem in a training config: where it is, which key, and what to do.</summary>
public sealed record ConfigProblem(string File, int? Line, string? Key, string Message)
{
    public override string ToString() => $"{File}{(Line is { } l ? $":{l}" : "")}: {(Key is null ? "" : $"{Key}: ")}{Message}";
}

/// <summary>A training config that cannot be used; <see cref="Problems"/> lists every error found, not only the first.</summary>
public sealed class TrainingConfigException(IReadOnlyList<ConfigProblem> problems)
    : Exception(string.Join(Environment.NewLine, problems.Select(p => p.ToString())))
{
    public IReadOnlyList<ConfigProblem> Problems { get; } = problems;
}
