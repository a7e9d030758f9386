using NotebookTrainer.Analysis;
using NotebookTrainer.Models;
using NotebookTrainer.Sampling;
using NotebookTrainer.Tagging;
using NotebookTrainer.World;

namespace NotebookTrainer.Cli.Commands;

/// <summary>
/// <c>ntrain accuracy</c>: a model's samples of every colour × shape × background, judged by the world tagger (a training
/// run's concept is <c>ntrain judge</c>).
/// </summary>
public static class AccuracyCommands
{
    public static int Run(string[] args)
    {
        var a = new CliArgs(args, ["model", "judge", "seeds", "steps", "cfg", "out"], ["json"]);
        var judgeDir = a.Option("judge") ?? WorldModel.TaggerDirectory;
        if (!File.Exists(Path.Combine(judgeDir, WdTaggerModel.ModelFileName)))
            throw new CliException($"--judge: {judgeDir} has no {WdTaggerModel.ModelFileName}; pass the folder of a world tagger ('ntrain tagger world --out DIR' trains one).");
        var seeds = a.Int("seeds", 8);
        if (seeds < 1) throw new CliException($"--seeds must be at least 1, not {seeds}.");
        var defaults = new AccuracyOptions();
        var options = new AccuracyOptions { Seeds = seeds, Steps = a.Int("steps", defaults.Steps), CfgScale = a.Double("cfg", defaults.CfgScale) };
        using var judge = WdTaggerModel.Load(judgeDir, preferGpu: false);

        var path = Resolve(a.Required("model"));
        using (var model = StableDiffusion.Load(path))
        {
            var generator = new SampleImageGenerator(StableDiffusionPipeline.Create(model, path));
            var prompts = AttributePrompt.Grid(WorldAttributes.Colours, WorldAttributes.Shapes, WorldAttributes.Backgrounds);
            var accuracy = AttributeAccuracy.Measure(generator, judge, prompts, a.Option("out") ?? Path.Combine(Path.GetTempPath(), $"ntrain-accuracy-{Guid.NewGuid():N}"),
                options with { Label = Path.GetFileName(path) }, progress: new ConsoleProgress(), cancellationToken: Ntrain.Cancellation);
            Console.WriteLine(a.Flag("json") ? accuracy.ToJson() : accuracy.ToString());
        }
        return 0;
    }

    /// <summary>A model path, or embedded:tiny (copied out of this build beside the temporary folder's other runs).</summary>
    static string Resolve(string model) =>
        model == "embedded:tiny" ? WorldModel.Install(Path.Combine(Path.GetTempPath(), "ntrain-embedded-tiny")) : model;
}
