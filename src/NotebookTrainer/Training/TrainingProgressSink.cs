namespace NotebookTrainer.Training;

/// <summary>Runs a callback on the training thread for each step (Progress&lt;T&gt; would post to the thread pool and reorder updates).</summary>
public sealed class TrainingProgressSink(Action<TrainingProgress> report) : IProgress<TrainingProgress>
{
    public void Report(TrainingProgress value) => report(value);
}
