using NotebookTrainer.Display;
using NotebookTrainer.Progress;
using NotebookTrainer.Training;

namespace NotebookTrainer.Tests.Training;

/// <summary>05's training cell: the status and the loss chart redraw at most every interval and always at the last step.</summary>
public sealed class LiveTrainingViewTests
{
    static TrainingProgress Step(int step, int total) =>
        new(step, total, 1, 1, 0.5f / step, 0.5f / step, 1e-3, new ProgressUpdate("steps", step, total, 10, TimeSpan.FromSeconds(total - step)));

    [Fact]
    public void Redraws_are_throttled_the_last_step_always_shows_and_the_end_says_where_the_output_is()
    {
        var statuses = new List<string>();
        var charts = new List<Chart>();
        var view = new LiveTrainingView(statuses.Add, charts.Add, interval: TimeSpan.FromHours(1));
        for (var step = 1; step <= 50; step++) view.Report(Step(step, 50));

        Assert.Single(charts);
        Assert.StartsWith("steps 50/50", statuses.Single());
        Assert.Equal(Enumerable.Range(1, 50).Select(i => (double)i), ((LineTrace)charts[0].Traces[0]).X);

        var plan = new TrainingPlan(1, 0, [], [], 50, 1, 50, 1, 50, 0, 1, "LoRA", 0, "AdamW", "constant", 0, "cpu");
        view.Finish(new TrainingResult("/runs/out.safetensors", null, 50, 1, false, [], plan), "LoRA");
        Assert.Equal("done: 50 steps, LoRA at /runs/out.safetensors", statuses[^1]);
        view.Finish(new TrainingResult(null, "/runs/state", 7, 1, true, [], plan), "LoRA");
        Assert.Contains("stopped at step 7; to continue, set config.Resume = @\"/runs/state\"", statuses[^1]);
    }
}
