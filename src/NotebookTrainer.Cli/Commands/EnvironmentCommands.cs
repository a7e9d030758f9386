using NotebookTrainer.Runtime;

namespace NotebookTrainer.Cli.Commands;

/// <summary><c>ntrain env</c>: what this machine offers for training and what is missing (as notebook 00-install shows it).</summary>
public static class EnvironmentCommands
{
    public static int Run(string[] args)
    {
        var parsed = new CliArgs(args, [], []);
        if (parsed.Positionals.Count > 0) throw new CliException($"takes no arguments (got '{parsed.Positionals[0]}').");
        Console.WriteLine(EnvironmentReport.Collect());
        return 0;
    }
}
