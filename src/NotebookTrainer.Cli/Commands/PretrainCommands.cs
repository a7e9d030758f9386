using NotebookTrainer.World;

namespace NotebookTrainer.Cli.Commands;

/// <summary><c>ntrain pretrain</c>: the embedded tiny model from scratch on the generated world; the work is in NotebookTrainer.World.</summary>
public static class PretrainCommands
{
    public static int Run(string[] args)
    {
        var a = new CliArgs(args, ["out", "seed", "install"], ["smoke"]);
        var output = a.Required("out");
        var options = (a.Flag("smoke") ? PretrainingOptions.Smoke(output) : new PretrainingOptions { OutputDir = output }) with { Seed = a.Int("seed", 1234) };
        var pretraining = new WorldPretraining(options, Console.WriteLine);
        var results = pretraining.Run(new ConsoleProgress(), Ntrain.Cancellation);
        foreach (var r in results)
            Console.WriteLine($"{r.Name,-9} {r.Seconds,7:0} s  {string.Join(", ", r.Figures.Select(f => $"{f.Key} {f.Value}"))}");
        if (a.Option("install") is { } install)
        {
            pretraining.Install(install, results, "ntrain pretrain " + string.Join(' ', args.Select(Quote)));
            Console.WriteLine($"installed into {Path.GetFullPath(install)}");
        }
        return 0;
    }

    static string Quote(string arg) => arg.Contains(' ') ? $"\"{arg}\"" : arg;
}
