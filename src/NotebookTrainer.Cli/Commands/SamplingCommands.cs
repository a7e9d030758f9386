using NotebookTrainer.Analysis;
using NotebookTrainer.Sampling;

namespace NotebookTrainer.Cli.Commands;

/// <summary><c>ntrain lora inspect|diff</c>, <c>ntrain sample prompts</c>, <c>ntrain log</c>.</summary>
public static class SamplingCommands
{
    public static int Run(string command, string[] args) => command switch
    {
        "lora" => Lora(args),
        "sample" => Sample(args),
        _ => Log(args),
    };

    public static int Lora(string[] args)
    {
        var a = new CliArgs(args, ["top-tags"], ["json"]);
        var what = a.Positional(0, "what to do: inspect FILE or diff A B");
        switch (what)
        {
            case "inspect":
                var report = LoadReport(a.Positional(1, "the LoRA .safetensors file"), a.Int("top-tags", 20));
                Console.WriteLine(a.Flag("json") ? report.ToJson() : report.ToText());
                return 0;
            case "diff":
                var comparison = new LoraComparison(LoadReport(a.Positional(1, "the first LoRA file"), 20), LoadReport(a.Positional(2, "the second LoRA file"), 20));
                Console.WriteLine(a.Flag("json") ? comparison.ToJson() : comparison.ToText());
                return 0;
            default:
                throw new CliException($"unknown lora command '{what}': use 'inspect FILE [--json]' or 'diff A B [--json]'.");
        }
    }

    static LoraReport LoadReport(string path, int topTags)
    {
        if (!File.Exists(path)) throw new CliException($"{path} does not exist.");
        try { return LoraReport.Load(path, topTags); }
        catch (SafeTensors.SafeTensorsFormatException e) { throw new CliException($"{path} is not a valid .safetensors file: {e.Message}"); }
    }

    /// <summary><c>ntrain sample prompts FILE</c>: parse a sample-prompts file and show what each line will generate.</summary>
    public static int Sample(string[] args)
    {
        var a = new CliArgs(args, ["steps", "sampler", "seed"], []);
        var what = a.Positional(0, "what to do: prompts FILE");
        if (what != "prompts") throw new CliException($"unknown sample command '{what}': use 'prompts FILE'.");
        SamplePromptFile file;
        try { file = SamplePromptFile.Load(a.Positional(1, "the sample prompts file")); }
        catch (FormatException e) { throw new CliException(e.Message); }
        foreach (var warning in file.Warnings) Console.Error.WriteLine("warning: " + warning);
        var sampler = a.Option("sampler");
        if (sampler is not null)
            try { SamplerCatalog.Create(sampler, NoiseSchedule.StableDiffusion); }
            catch (ArgumentException e) { throw new CliException("--sampler: " + e.Message); }
        var seed = a.Option("seed") is null ? (long?)null : a.Int("seed", 0);
        for (var i = 0; i < file.Prompts.Count; i++)
        {
            var p = file.Prompts[i];
            var name = sampler ?? p.Sampler ?? "ddim";
            var usedSeed = p.Seed ?? (seed is { } s ? s + i : null);
            Console.WriteLine($"{i:D2} line {p.Line}: {p.Width}x{p.Height}, {a.Int("steps", p.Steps)} steps, CFG {p.CfgScale}, {SamplerCatalog.Describe(name)}, seed {usedSeed?.ToString() ?? "random"}");
            Console.WriteLine($"   {p.Prompt}");
            if (p.NegativePrompt.Length > 0) Console.WriteLine($"   negative: {p.NegativePrompt}");
        }
        return 0;
    }

    /// <summary><c>ntrain log RUN_DIR|loss.csv</c>: per-epoch mean loss of a training run.</summary>
    public static int Log(string[] args)
    {
        var a = new CliArgs(args, [], []);
        var target = a.Positional(0, "a run folder or its loss.csv");
        var log = RunLog.Load(Directory.Exists(target) ? RunLog.Find(target) : target);
        Console.WriteLine($"{log.Path}: {log.Entries.Count} steps");
        Console.WriteLine($"{"epoch",5} {"steps",6} {"mean loss",10} {"min",10} {"max",10}");
        foreach (var e in log.EpochMeans())
            Console.WriteLine(FormattableString.Invariant($"{e.Epoch,5} {e.Steps,6} {e.MeanLoss,10:0.00000} {e.MinLoss,10:0.00000} {e.MaxLoss,10:0.00000}"));
        return 0;
    }
}
