using NotebookTrainer.Pretraining;
using NotebookTrainer.World;

namespace NotebookTrainer.Cli.Commands;

/// <summary><c>ntrain pretrain</c>: the embedded tiny model from scratch on the generated world; the work is in NotebookTrainer.World.</summary>
public static class PretrainCommands
{
    public static int Run(string[] args)
    {
        var a = new CliArgs(args, ["out", "seed", "install", "unet-steps"], ["smoke"]);
        var output = a.Required("out");
        var options = (a.Flag("smoke") ? PretrainingOptions.Smoke(output) : new PretrainingOptions { OutputDir = output }) with { Seed = a.Int("seed", 1234) };
        options = options with { UnetSteps = a.Int("unet-steps", options.UnetSteps) };
        var pretraining = new WorldPretraining(options, Console.WriteLine);
        var results = pretraining.Run(new ConsoleProgress(), Ntrain.Cancellation);
        // A run whose phases were all done before (e.g. only --install) made nothing: the provenance lists what did.
        if (pretraining.PhasesRun.Count > 0) pretraining.RecordCommand(CommandLine(args));
        foreach (var r in results)
            Console.WriteLine($"{r.Name,-9} {r.Seconds,7:0} s  {string.Join(", ", r.Figures.Select(f => $"{f.Key} {f.Value}"))}");
        if (a.Option("install") is { } install)
        {
            pretraining.Install(install, results);
            Console.WriteLine($"installed into {Path.GetFullPath(install)}");
        }
        return 0;
    }

    /// <summary>The command as the provenance lists it: where a copy was installed is not part of how the model was made.</summary>
    static string CommandLine(string[] args)
    {
        var kept = new List<string>();
        for (var i = 0; i < args.Length; i++)
            if (args[i] == "--install") i++;
            else kept.Add(Quote(args[i]));
        return "ntrain pretrain " + string.Join(' ', kept);
    }

    static string Quote(string arg) => arg.Contains(' ') ? $"\"{arg}\"" : arg;
}
