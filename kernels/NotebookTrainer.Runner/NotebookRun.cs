using NotebookTrainer.Runner.Ipynb;

namespace NotebookTrainer.Runner;

/// <summary>Where a run stopped: the 1-based cell number in the executed notebook and the line in that cell.</summary>
public sealed record RunFailure(string NotebookFile, int Cell, int Line, string Message)
{
    public override string ToString() => $"notebook {NotebookFile}, cell {Cell}, line {Line}: {Message}";
}

/// <summary>One executed notebook: the document with outputs, the parameters injected, and how it ended.</summary>
public sealed record NotebookRun(NotebookDocument Notebook, IReadOnlyDictionary<string, string> Parameters, TimeSpan Duration, RunFailure? Failure);
