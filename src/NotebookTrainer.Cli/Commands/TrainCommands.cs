using System.CommandLine;
using NotebookTrainer.Configuration;
using NotebookTrainer.Datasets.Config;
using NotebookTrainer.Training;

namespace NotebookTrainer.Cli.Commands;

/// <summary>
/// <c>ntrain train</c> (train_network.py), <c>ntrain finetune</c> (fine_tune.py), <c>ntrain dreambooth</c> (train_db.py)
/// and <c>ntrain textual-inversion</c> (train_textual_inversion.py): options and printing; the work is in
/// NotebookTrainer.Training.
/// </summary>
public static class TrainCommands
{
    static string CommandName(TrainingMethod method) => method switch
    {
        TrainingMethod.FineTune => "finetune",
        TrainingMethod.DreamBooth => "dreambooth",
        TrainingMethod.TextualInversion => "textual-inversion",
        _ => "train",
    };

    static string Description(TrainingMethod method) => method switch
    {
        TrainingMethod.FineTune => "Train the U-Net's own weights, ± text encoder (kohya fine_tune.py keys); writes a full checkpoint or a diffusers folder",
        TrainingMethod.DreamBooth => "DreamBooth (kohya train_db.py keys): U-Net + text encoder on N_identifier class folders, reg images at prior_loss_weight; full checkpoint",
        TrainingMethod.TextualInversion => "Learn token_string's embedding (train_textual_inversion.py keys); writes an A1111/ComfyUI embedding",
        _ => "Train a LoRA/LoCon/LoHa (kohya train_network.py keys); Ctrl-C saves a resumable state",
    };

    public static Command Train(TrainingMethod method)
    {
        var config = new Option<string>("--config") { Description = "training.toml (kohya keys)", HelpName = "FILE", Required = true };
        var datasetConfig = new Option<string?>("--dataset-config") { Description = "dataset.toml, if training.toml names none", HelpName = "FILE" };
        var resume = new Option<string?>("--resume") { Description = "continue from a saved state folder", HelpName = "STATE_DIR" };
        var command = new Command(CommandName(method), Description(method)) { config, datasetConfig, resume };
        command.SetAction(parse => Run(method, parse.GetRequiredValue(config), parse.GetValue(datasetConfig), parse.GetValue(resume)));
        return command;
    }

    static int Run(TrainingMethod method, string configPath, string? datasetConfigPath, string? resumePath)
    {
        var config = TrainingConfig.Load(configPath, datasetConfigPath);
        foreach (var warning in config.Warnings) Console.Error.WriteLine($"note: {warning}");
        var resume = resumePath ?? config.Resume;
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
            Console.WriteLine($"stopped at step {result.Steps}; continue with: ntrain {CommandName(method)} --config {configPath} --resume \"{result.StatePath}\"");
            return 130;
        }
        Console.WriteLine($"done: {result.Steps} steps; {trainer.Target.OutputKind} {result.OutputPath}" + (result.StatePath is null ? "" : $"; state {result.StatePath}"));
        return 0;
    }
}
