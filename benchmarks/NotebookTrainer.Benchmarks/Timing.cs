using System.Diagnostics;

namespace NotebookTrainer.Benchmarks;

static class Timing
{
    /// <summary>Runs <paramref name="action"/> <paramref name="warmup"/> times unmeasured, then returns the median of <paramref name="repeats"/> runs in seconds.</summary>
    public static double MedianSeconds(Action action, int warmup, int repeats)
    {
        for (var i = 0; i < warmup; i++) action();
        var times = new double[repeats];
        for (var i = 0; i < repeats; i++)
        {
            var watch = Stopwatch.StartNew();
            action();
            times[i] = watch.Elapsed.TotalSeconds;
        }
        Array.Sort(times);
        return times[repeats / 2];
    }
}
