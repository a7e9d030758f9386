using System.Diagnostics;
using System.Text;
using NotebookTrainer.Progress;

namespace NotebookTrainer.Runner.Execution;

/// <summary>Sends Console output and display() calls to the cell that is running.</summary>
public sealed class OutputRouter(ProgressEcho? progressEcho = null)
{
    volatile CellOutputs? current;

    /// <summary>Where displayed progress also goes, so a headless run of a long cell shows signs of life.</summary>
    public ProgressEcho? ProgressEcho { get; } = progressEcho;

    public CellOutputs? Current
    {
        get => current;
        set => current = value;
    }
}

/// <summary>
/// A Console.Out / Console.Error replacement: while a cell runs, text becomes that cell's stream output
/// ("stdout"/"stderr"); otherwise it passes through to the real console.
/// </summary>
public sealed class CellStreamWriter(string streamName, OutputRouter router, TextWriter passThrough) : TextWriter
{
    public override Encoding Encoding => Encoding.UTF8;

    public override void Write(char value) => Write(value.ToString());

    public override void Write(char[] buffer, int index, int count) => Write(new string(buffer, index, count));

    public override void Write(string? value)
    {
        if (string.IsNullOrEmpty(value)) return;
        if (router.Current is { } outputs) outputs.AppendStream(streamName, value);
        else passThrough.Write(value);
    }

    public override void Flush() => passThrough.Flush();
}

/// <summary>
/// Echoes displayed <see cref="ProgressUpdate"/>s to the runner's console: at most one line per interval,
/// plus the one that completes the job.
/// </summary>
public sealed class ProgressEcho(TextWriter log, TimeSpan interval)
{
    readonly object gate = new();
    readonly Stopwatch clock = Stopwatch.StartNew();
    TimeSpan? last;

    public void Report(object? value)
    {
        if (value is not ProgressUpdate update) return;
        lock (gate)
        {
            var now = clock.Elapsed;
            var finished = update.Total > 0 && update.Done >= update.Total;
            if (!finished && last is { } previous && now - previous < interval) return;
            last = now;
            log.WriteLine($"    {update}");
        }
    }
}
