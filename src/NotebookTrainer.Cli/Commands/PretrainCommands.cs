using System.CommandLine;
using NotebookTrainer.Pretraining;
using NotebookTrainer.World;

using static NotebookTrainer.Cli.CliOptions;

namespace NotebookTrainer.Cli.Commands;

/// <summary><c>ntrain pretrain</c>: the embedded tiny model from scratch on the generated world; the work is in NotebookTrainer.World.</summary>
public static class PretrainCommands
{
    public static Command Pretrain()
    {
        var output = new Option<string>("--out") { Description = "the run folder (resumable)", HelpName = "DIR", Required = true };
        var seed = NumberOptions.Whole("--seed", 1234, "random seed");
        var unetSteps = NumberOptions.OptionalWhole("--unet-steps", "U-Net training steps (default: the full or --smoke schedule's)");
        var install = new Option<string?>("--install") { Description = "copy the result into this folder", HelpName = "DIR" };
        var smoke = Flag("--smoke", "a few steps of each phase, to check the pipeline");
        var command = new Command("pretrain", "Train the embedded tiny model from scratch on the generated world (VAE, U-Net, judge tagger, evaluation; resumable)")
            { output, seed, unetSteps, install, smoke };
        command.SetAction(parse =>
        {
            var folder = parse.GetRequiredValue(output);
            var options = (parse.GetValue(smoke) ? PretrainingOptions.Smoke(folder) : new PretrainingOptions { OutputDir = folder }) with { Seed = parse.GetValue(seed) };
            options = options with { UnetSteps = parse.GetValue(unetSteps) ?? options.UnetSteps };
            var pretraining = new WorldPretraining(options, Console.WriteLine);
            var results = pretraining.Run(new ConsoleProgress(), Ntrain.Cancellation);
            // A run whose phases were all done before (e.g. only --install) made nothing: the provenance lists what did.
            if (pretraining.PhasesRun.Count > 0) pretraining.RecordCommand(CommandLine(parse));
            foreach (var r in results)
                Console.WriteLine($"{r.Name,-9} {r.Seconds,7:0} s  {string.Join(", ", r.Figures.Select(f => $"{f.Key} {f.Value}"))}");
            if (parse.GetValue(install) is { } target)
            {
                pretraining.Install(target, results);
                Console.WriteLine($"installed into {Path.GetFullPath(target)}");
            }
        });
        return command;
    }

    /// <summary>The command as the provenance lists it: where a copy was installed is not part of how the model was made.</summary>
    static string CommandLine(ParseResult parse)
    {
        var args = parse.Tokens.Skip(1).Select(t => t.Value).ToList();   // after "pretrain"
        var kept = new List<string>();
        for (var i = 0; i < args.Count; i++)
            if (args[i] == "--install") i++;
            else kept.Add(Quote(args[i]));
        return "ntrain pretrain " + string.Join(' ', kept);
    }

    static string Quote(string arg) => arg.Contains(' ') ? $"\"{arg}\"" : arg;
}
