using NotebookTrainer.Checkpoints;
using NotebookTrainer.SafeTensors;
using NotebookTrainer.Tokenizers;

namespace NotebookTrainer.Cli.Commands;

/// <summary><c>ntrain model inspect</c>: argument parsing and printing; the work is in NotebookTrainer.Checkpoints.</summary>
public static class ModelCommands
{
    public static int Run(string[] args)
    {
        if (args.Length == 0 || args[0] != "inspect")
            throw new CliException("use 'model inspect <checkpoint file or diffusers folder> [--json] [--config DIR]'.");
        var a = new CliArgs(args[1..], ["config"], ["json"]);
        var path = a.Positional(0, "a checkpoint path (.safetensors, .ckpt/.pt, or a diffusers folder)");
        if (a.Positionals.Count > 1) throw new CliException($"give one checkpoint, got {a.Positionals.Count}: {string.Join(", ", a.Positionals)}.");
        try
        {
            var inspection = ModelInspection.Inspect(path, a.Option("config"), new ConsoleProgress(), Ntrain.Cancellation);
            Console.Write(a.Flag("json") ? inspection.ToJson() + Environment.NewLine : inspection.ToText());
            return 0;
        }
        catch (Exception e) when (e is SafeTensorsFormatException or CheckpointFormatException or TokenizerFormatException)
        {
            throw new CliException(e.Message);
        }
    }
}
