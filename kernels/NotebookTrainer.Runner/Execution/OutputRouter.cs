using System.Text;

namespace NotebookTrainer.Runner.Execution;

/// <summary>Sends Console output and display() calls to the cell that is running.</summary>
public sealed class OutputRouter
{
    volatile CellOutputs? current;

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
