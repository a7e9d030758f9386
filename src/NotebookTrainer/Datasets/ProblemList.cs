using NotebookTrainer.Configuration;
using NotebookTrainer.Display;

namespace NotebookTrainer.Datasets;

/// <summary>Problems as a table (severity, file, line, key, problem) for notebooks and reports.</summary>
public sealed record ProblemList(IReadOnlyList<DatasetProblem> Problems) : IHtmlRenderable
{
    public string ToHtml() => Problems.Count == 0
        ? "<p>No problems found.</p>"
        : Html.Table(["severity", "file", "line", "key", "problem"],
            Problems.Select(p => new object?[] { p.IsError ? "error" : "warning", p.File, p.Line, p.Key, p.Message }));
}

/// <summary>kohya's step math: steps per epoch = batches; total = steps per epoch × epochs.</summary>
public sealed record StepPlan(int TrainImagesWithRepeats, int RegImagesWithRepeats, int StepsPerEpoch, int Epochs) : IHtmlRenderable
{
    public int TotalSteps => StepsPerEpoch * Epochs;

    public string ToHtml() => Html.Table(["", "value"],
    [
        ["train images × repeats", TrainImagesWithRepeats],
        ["reg images × repeats", RegImagesWithRepeats],
        ["steps (batches) per epoch", StepsPerEpoch],
        ["epochs", Epochs],
        ["total steps", TotalSteps],
    ]);
}
