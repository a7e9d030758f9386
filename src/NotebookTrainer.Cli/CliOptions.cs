using System.CommandLine;

namespace NotebookTrainer.Cli;

/// <summary>Switches several commands share.</summary>
public static class CliOptions
{
    public static Option<bool> Flag(string name, string description) => new(name) { Description = description };

    public static Option<bool> Json() => Flag("--json", "print JSON");
}
