using NotebookTrainer.Progress;

namespace NotebookTrainer.Cli;

/// <summary>Shows progress on one rewritten stderr line in a terminal, or one line per update when redirected.</summary>
public sealed class ConsoleProgress : IProgress<ProgressUpdate>
{
    readonly object gate = new();

    public void Report(ProgressUpdate value)
    {
        lock (gate)
        {
            if (Console.IsErrorRedirected) Console.Error.WriteLine(value);
            else
            {
                Console.Error.Write("\r" + value.ToString().PadRight(Math.Max(0, Console.BufferWidth - 1)));
                if (value.Done >= value.Total) Console.Error.WriteLine();
            }
        }
    }
}
