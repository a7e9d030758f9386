using NotebookTrainer.Runtime;

namespace NotebookTrainer.Cli.Commands;

/// <summary><c>ntrain env</c>: what this machine offers for training and what is missing (as notebook 00-install shows it).</summary>
public static class EnvironmentCommands
{
    public static int Run(string[] args)
    {
        if (args.Length > 1)
        {
            Console.Error.WriteLine($"ntrain env: takes no arguments (got '{args[1]}').");
            return 2;
        }
        Console.WriteLine(EnvironmentReport.Collect());
        return 0;
    }
}
