using NotebookTrainer.Progress;

namespace NotebookTrainer.Training;

/// <summary>One optimizer step as the CLI and notebooks show it.</summary>
public sealed record TrainingProgress(int Step, int TotalSteps, int Epoch, int Epochs, float Loss, float SmoothedLoss, double LearningRate, ProgressUpdate Rate)
{
    public override string ToString() =>
        $"steps {Step}/{TotalSteps} epoch {Epoch}/{Epochs} loss {Loss:0.0000} avg {SmoothedLoss:0.0000} lr {LearningRate:0.###e+0} | {Rate.RatePerSecond:0.00} it/s{(Rate.Eta is { } e ? $", ETA {e:hh\\:mm\\:ss}" : "")}";
}

/// <summary>How a run ended. <see cref="Validation"/> holds this session's validation passes (none without validation_split).</summary>
public sealed record TrainingResult(
    string? OutputPath,
    string? StatePath,
    int Steps,
    int Epoch,
    bool Cancelled,
    IReadOnlyList<(int Step, float Loss, float SmoothedLoss)> Losses,
    TrainingPlan Plan,
    IReadOnlyList<ValidationPoint>? Validation = null);
