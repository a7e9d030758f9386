using System.Diagnostics;

namespace NotebookTrainer.Progress;

/// <summary>One snapshot of a long-running job, as shown by the CLI and by notebook progress bars.</summary>
[Display.TypeFormatterSource(typeof(Display.NotebookFormatterSource))]
public sealed record ProgressUpdate(string Task, long Done, long Total, double RatePerSecond, TimeSpan? Eta, string? Detail = null)
{
    public double Fraction => Total > 0 ? Math.Clamp((double)Done / Total, 0, 1) : 0;

    public override string ToString()
    {
        var eta = Eta is { } e ? $", ETA {(e.TotalHours >= 1 ? e.ToString(@"h\:mm\:ss") : e.ToString(@"m\:ss"))}" : "";
        var detail = string.IsNullOrEmpty(Detail) ? "" : $" — {Detail}";
        return $"{Task}: {Done}/{Total} ({Fraction:P0}), {RatePerSecond:0.00}/s{eta}{detail}";
    }
}

/// <summary>
/// Counts finished units of work and reports rate and ETA, at most every <c>minInterval</c> (and always at the end).
/// Rate is an exponential moving average so one slow item does not swing the ETA.
/// </summary>
public sealed class ProgressTracker
{
    readonly string task;
    readonly long total;
    readonly IProgress<ProgressUpdate>? sink;
    readonly TimeSpan minInterval;
    readonly Stopwatch clock = Stopwatch.StartNew();
    TimeSpan? lastReport;
    TimeSpan lastTick;
    long lastDone;
    double rate;

    public ProgressTracker(string task, long total, IProgress<ProgressUpdate>? sink, TimeSpan? minInterval = null)
    {
        this.task = task;
        this.total = total;
        this.sink = sink;
        this.minInterval = minInterval ?? TimeSpan.FromMilliseconds(250);
    }

    public long Done { get; private set; }

    public ProgressUpdate Advance(long by = 1, string? detail = null)
    {
        Done += by;
        var now = clock.Elapsed;
        var dt = (now - lastTick).TotalSeconds;
        if (dt > 0)
        {
            var instant = (Done - lastDone) / dt;
            rate = rate == 0 ? instant : 0.7 * rate + 0.3 * instant;
            lastTick = now;
            lastDone = Done;
        }
        var update = Snapshot(detail);
        if (sink != null && (Done >= total || lastReport is null || now - lastReport >= minInterval))
        {
            lastReport = now;
            sink.Report(update);
        }
        return update;
    }

    public ProgressUpdate Snapshot(string? detail = null)
    {
        TimeSpan? eta = rate > 0 && total > Done ? TimeSpan.FromSeconds((total - Done) / rate) : null;
        return new ProgressUpdate(task, Done, total, rate, eta, detail);
    }
}
