using NotebookTrainer.Configuration;
using NotebookTrainer.Datasets.Config;
using NotebookTrainer.Training;

namespace NotebookTrainer.Cli.Commands;

/// <summary>
/// <c>ntrain train</c> (train_network.py), <c>ntrain finetune</c> (fine_tune.py), <c>ntrain dreambooth</c> (train_db.py)
/// and <c>ntrain textual-inversion</c> (train_textual_inversion.py): argument parsing and printing; the work is in
/// NotebookTrainer.Training.
/// </summary>
public static class TrainCommands
{
    public static string CommandName(TrainingMethod method) => method switch
    {
        TrainingMethod.FineTune => "finetune",
        TrainingMethod.DreamBooth => "dreambooth",
        TrainingMethod.TextualInversion => "textual-inversion",
        _ => "train",
    };

    public static int Run(string[] args, TrainingMethod method)
    {
        var command = CommandName(method);
        var a = new CliArgs(args, ["config", "dataset-config", "resume"], []);
        try
        {
            var config = TrainingConfig.Load(a.Required("config"), a.Option("dataset-config"));
            foreach (var warning in config.Warnings) Console.Error.WriteLine($"note: {warning}");
            var resume = a.Option("resume") ?? config.Resume;
            var progress = new ConsoleProgress();
            var dataset = TrainingDataset.Build(config, progress: progress, cancellationToken: Ntrain.Cancellation);
            foreach (var p in dataset.Problems) Console.Error.WriteLine($"dataset: {p}");
            using var models = TrainingModelLoader.Load(config, progress: progress, cancellationToken: Ntrain.Cancellation, method: method);
            using var trainer = new Trainer(config, dataset, models, log: Console.WriteLine, method: method);
            var lastLine = DateTime.MinValue;
            var result = trainer.Train(new TrainingProgressSink(p =>
            {
                if (p.Step == p.TotalSteps || DateTime.UtcNow - lastLine > TimeSpan.FromSeconds(1))
                {
                    Console.Error.WriteLine(p);
                    lastLine = DateTime.UtcNow;
                }
            }), Ntrain.Cancellation, resume);
            if (result.Cancelled)
            {
                Console.WriteLine($"stopped at step {result.Steps}; continue with: ntrain {command} --config {a.Required("config")} --resume \"{result.StatePath}\"");
                return 130;
            }
            Console.WriteLine($"done: {result.Steps} steps; {trainer.Target.OutputKind} {result.OutputPath}" + (result.StatePath is null ? "" : $"; state {result.StatePath}"));
            return 0;
        }
        catch (Exception e) when (e is ConfigException or TrainingException)
        {
            throw new CliException(e.Message);
        }
    }
}
