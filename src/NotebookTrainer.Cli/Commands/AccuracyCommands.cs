using System.CommandLine;
using NotebookTrainer.Analysis;
using NotebookTrainer.Models;
using NotebookTrainer.Sampling;
using NotebookTrainer.Tagging;
using NotebookTrainer.World;

using static NotebookTrainer.Cli.CliOptions;

namespace NotebookTrainer.Cli.Commands;

/// <summary>
/// <c>ntrain accuracy</c>: a model's samples of every colour × shape × background, judged by the world tagger (a training
/// run's concept is <c>ntrain judge</c>).
/// </summary>
public static class AccuracyCommands
{
    public static Command Accuracy()
    {
        var defaults = new AccuracyOptions();
        var model = new Option<string>("--model") { Description = "the model to judge: a checkpoint, a diffusers folder or embedded:tiny", HelpName = "PATH", Required = true };
        var judge = new Option<string?>("--judge") { Description = "the world tagger's folder (default: the embedded one)", HelpName = "DIR" };
        var seeds = NumberOptions.Whole("--seeds", 8, "samples per prompt", min: 1);
        var steps = NumberOptions.Whole("--steps", defaults.Steps, "sampling steps");
        var cfg = NumberOptions.Decimal("--cfg", defaults.CfgScale, "classifier-free guidance scale");
        var output = new Option<string?>("--out") { Description = "where the judged images go (default: a temporary folder)", HelpName = "DIR" };
        var json = Json();
        var command = new Command("accuracy", "Judged attribute accuracy over every colour × shape × background") { model, judge, seeds, steps, cfg, output, json };
        command.SetAction(parse =>
        {
            var judgeDir = parse.GetValue(judge) ?? WorldModel.TaggerDirectory;
            if (!File.Exists(Path.Combine(judgeDir, WdTaggerModel.ModelFileName)))
                throw new CliException($"--judge: {judgeDir} has no {WdTaggerModel.ModelFileName}; pass the folder of a world tagger ('ntrain tagger world --out DIR' trains one).");
            var options = new AccuracyOptions { Seeds = parse.GetValue(seeds), Steps = parse.GetValue(steps), CfgScale = parse.GetValue(cfg) };
            using var tagger = WdTaggerModel.Load(judgeDir, preferGpu: false);

            var path = Resolve(parse.GetRequiredValue(model));
            using var diffusion = StableDiffusion.Load(path);
            var generator = new SampleImageGenerator(StableDiffusionPipeline.Create(diffusion, path));
            var prompts = AttributePrompt.Grid(WorldAttributes.Colours, WorldAttributes.Shapes, WorldAttributes.Backgrounds);
            var accuracy = AttributeAccuracy.Measure(generator, tagger, prompts, parse.GetValue(output) ?? Path.Combine(Path.GetTempPath(), $"ntrain-accuracy-{Guid.NewGuid():N}"),
                options with { Label = Path.GetFileName(path) }, progress: new ConsoleProgress(), cancellationToken: Ntrain.Cancellation);
            Console.WriteLine(parse.GetValue(json) ? accuracy.ToJson() : accuracy.ToString());
        });
        return command;
    }

    /// <summary>A model path, or embedded:tiny (copied out of this build beside the temporary folder's other runs).</summary>
    static string Resolve(string model) =>
        model == "embedded:tiny" ? WorldModel.Install(Path.Combine(Path.GetTempPath(), "ntrain-embedded-tiny")) : model;
}
