using NotebookTrainer.Analysis;
using NotebookTrainer.Diffusion;
using NotebookTrainer.Sampling;
using NotebookTrainer.Training;

namespace NotebookTrainer.Cli.Commands;

/// <summary><c>ntrain lora inspect|diff</c>, <c>ntrain sample prompts</c>, <c>ntrain log</c>, <c>ntrain judge</c>.</summary>
public static class SamplingCommands
{
    public static int Run(string command, string[] args) => command switch
    {
        "lora" => Lora(args),
        "sample" => Sample(args),
        "judge" => Judge(args),
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
        if (!File.Exists(path)) throw new CliException($"{path} does not exist; give a LoRA .safetensors file.");
        return LoraReport.Load(path, topTags);
    }

    /// <summary>
    /// <c>ntrain sample --model PATH --prompts FILE --out DIR [--lora FILE[:WEIGHT]]… [--embedding FILE[:WORD]]…</c> writes
    /// kohya-named sample images; <c>ntrain sample prompts FILE</c> only checks a prompts file.
    /// </summary>
    public static int Sample(string[] args)
    {
        var a = new CliArgs(args, ["steps", "sampler", "seed", "model", "config", "tokenizer", "lora", "embedding", "prompts", "out", "name", "epoch", "clip-skip", "dtype"], []);
        if (a.Positionals.Count == 0) return Generate(a);
        var what = a.Positional(0, "what to do: prompts FILE");
        if (what != "prompts") throw new CliException($"unknown sample command '{what}': use 'ntrain sample --model PATH --prompts FILE --out DIR' or 'ntrain sample prompts FILE'.");
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

    static SamplePromptFile LoadPrompts(string path)
    {
        try { return SamplePromptFile.Load(path); }
        catch (FormatException e) { throw new CliException(e.Message); }
    }

    static int Generate(CliArgs a)
    {
        var modelPath = a.Required("model");
        var prompts = LoadPrompts(a.Required("prompts"));
        foreach (var warning in prompts.Warnings) Console.Error.WriteLine("warning: " + warning);
        if (prompts.Prompts.Count == 0) throw new CliException($"{prompts.Path} has no prompts (only comments or blank lines).");
        var sampler = a.Option("sampler");
        if (sampler is not null)
            try { SamplerCatalog.Create(sampler, NoiseSchedule.StableDiffusion); }
            catch (ArgumentException e) { throw new CliException("--sampler: " + e.Message); }
        var steps = a.Option("steps") is null ? (int?)null : a.Int("steps", 30);
        if (steps is < 1 or > 1000) throw new CliException($"--steps must be 1 to 1000, not {steps}.");
        var loraSpecs = a.Options("lora").Select(ParseLora).ToList();
        var dtype = a.Option("dtype") switch
        {
            null or "fp32" => TorchSharp.torch.ScalarType.Float32,
            "fp16" => TorchSharp.torch.ScalarType.Float16,
            "bf16" => TorchSharp.torch.ScalarType.BFloat16,
            var other => throw new CliException($"--dtype must be fp32, fp16 or bf16, not '{other}'."),
        };
        var device = Runtime.TorchRuntime.DefaultDevice;
        using var model = Models.StableDiffusion.Load(modelPath, a.Option("config"), dtype, device, new ConsoleProgress(), Ntrain.Cancellation);
        var embeddings = a.Options("embedding").Select(ParseEmbedding).Select(e => Embeddings.TextualInversionEmbedding.Load(e.Path, e.Word)).ToList();
        foreach (var e in embeddings) Console.WriteLine($"embedding '{e.Word}': {e.Vectors.shape[0]} vectors");
        var pipeline = StableDiffusionPipeline.Create(model, modelPath, a.Option("tokenizer"), a.Int("clip-skip", 1), embeddings);
        var loras = new List<(Networks.LoraNetwork Network, float Weight)>();
        try
        {
            foreach (var (path, weight) in loraSpecs)
            {
                var (network, _) = Networks.LoraFile.Load(path, model.Unet, model.TextEncoder, device);
                if (network.UnmatchedNames.Count > 0)
                    Console.Error.WriteLine($"warning: {path}: {network.UnmatchedNames.Count} modules match no layer of the model (e.g. {network.UnmatchedNames[0]}).");
                loras.Add((network, weight));
            }
            var output = a.Required("out");
            var name = a.Option("name") ?? (loraSpecs.Count > 0 ? Path.GetFileNameWithoutExtension(loraSpecs[0].Path) : Path.GetFileNameWithoutExtension(modelPath));
            var options = new SampleRunOptions(output, name, a.Int("epoch", 0))
            {
                Sampler = sampler,
                Steps = steps,
                Seed = a.Option("seed") is null ? null : a.Int("seed", 0),
            };
            var set = new SampleImageGenerator(pipeline).Run(prompts.Prompts, options, loras, new ConsoleProgress(), Ntrain.Cancellation);
            foreach (var image in set.Images)
                Console.WriteLine($"{image.Path}  seed {image.Seed}, {image.Sampler}, {image.Steps} steps");
            Console.WriteLine($"{set.Images.Count} images in {set.Elapsed.TotalSeconds:0.0} s");
            return 0;
        }
        finally
        {
            foreach (var (network, _) in loras) network.Dispose();
        }
    }

    /// <summary>"file.safetensors" or "file.safetensors:0.8".</summary>
    static (string Path, float Weight) ParseLora(string spec)
    {
        var colon = spec.LastIndexOf(':');
        if (colon > 0 && float.TryParse(spec[(colon + 1)..], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var weight))
            return (spec[..colon], weight);
        return (spec, 1f);
    }

    /// <summary>"file.safetensors" (the word is the file name, as in A1111) or "file.safetensors:word".</summary>
    static (string Path, string? Word) ParseEmbedding(string spec)
    {
        var colon = spec.LastIndexOf(':');
        return colon > 0 && spec[(colon + 1)..] is { Length: > 0 } word && !word.Contains('/') && !word.Contains('\\') ? (spec[..colon], word) : (spec, null);
    }

    /// <summary><c>ntrain log RUN_DIR|loss.csv</c>: per-epoch mean loss of a training run.</summary>
    public static int Log(string[] args)
    {
        var a = new CliArgs(args, [], []);
        var target = a.Positional(0, "a run folder or its loss.csv");
        if (!Directory.Exists(target) && !File.Exists(target))
            throw new CliException($"{target}: no such run folder or file; give a training run's output_dir (or logging_dir) or the loss.csv in it.");
        var log = RunLog.Load(Directory.Exists(target) ? RunLog.Find(target) : target);
        Console.WriteLine($"{log.Path}: {log.Entries.Count} steps");
        Console.WriteLine($"{"epoch",5} {"steps",6} {"mean loss",10} {"min",10} {"max",10}");
        foreach (var e in log.EpochMeans())
            Console.WriteLine(FormattableString.Invariant($"{e.Epoch,5} {e.Steps,6} {e.MeanLoss,10:0.00000} {e.MinLoss,10:0.00000} {e.MaxLoss,10:0.00000}"));
        if (log.Validation.Count > 0)
        {
            Console.WriteLine($"validation ({RunFolder.ValidationLogFile}): {"kind",5} {"epoch",5} {"step",6} {"loss",10}");
            foreach (var v in log.Validation)
                Console.WriteLine(FormattableString.Invariant($"{"",29} {v.Kind,5} {v.Epoch,5} {v.Step,6} {v.Loss,10:0.00000}"));
            if (log.BestEpoch() is { } best) Console.WriteLine(FormattableString.Invariant($"lowest validation loss: epoch {best.Epoch}, {best.Loss:0.00000}"));
        }
        return 0;
    }

    /// <summary>
    /// <c>ntrain judge RUN_DIR [--model PATH] [--judge DIR] [--seeds N] [--seen-seeds N] [--final-only] [--json]</c>: the judged
    /// concept accuracy of the base model and of each output of a run (<see cref="ConceptLearning"/>).
    /// </summary>
    public static int Judge(string[] args)
    {
        var a = new CliArgs(args, ["model", "judge", "seeds", "seen-seeds", "cfg"], ["final-only", "json"]);
        var dir = a.Positional(0, "the run's output folder");
        if (!Directory.Exists(dir)) throw new CliException($"{dir} does not exist; give the output_dir of a training run.");
        var run = TrainingRun.Open(dir);
        if (run.Outputs.Count == 0) throw new CliException($"{dir} holds no LoRA, checkpoint or embedding to judge.");
        var modelPath = a.Option("model") ?? run.BaseModelPath
            ?? throw new CliException($"{dir} has no run/training.toml naming its base model; give --model PATH.");
        var seeds = a.Int("seeds", 8);
        if (seeds < 1) throw new CliException("--seeds must be at least 1.");
        var outputs = a.Flag("final-only") ? [run.FinalOutput!] : run.Outputs;
        using var model = Models.StableDiffusion.Load(modelPath);
        using var judge = Tagging.WdTaggerModel.Load(a.Option("judge") ?? World.WorldModel.TaggerDirectory);
        var learning = ConceptLearning.Measure(model, modelPath, judge, outputs, Path.Combine(dir, "judged"),
            options: new AccuracyOptions { Seeds = seeds, CfgScale = a.Double("cfg", new AccuracyOptions().CfgScale) }, seenSeeds: a.Option("seen-seeds") is null ? null : a.Int("seen-seeds", 4),
            progress: new ConsoleProgress(), cancellationToken: Ntrain.Cancellation);
        if (a.Flag("json"))
        {
            Console.WriteLine(System.Text.Json.JsonSerializer.Serialize(learning.Rows.Select(r => new
            {
                label = r.Label,
                epoch = r.Epoch,
                concept = r.Concept.Accuracy("concept", learning.Concept),
                colour = r.Concept.Accuracy("colour", true),
                shape = r.Concept.Accuracy("shape", true),
                seen = r.Seen.Accuracy("concept", false),
            })));
            return 0;
        }
        Console.WriteLine($"{learning.Concept}: {learning.Rows[0].Concept.Samples.Count} concept and {learning.Rows[0].Seen.Samples.Count} seen samples per row, judged by the world tagger");
        Console.WriteLine($"{"",-10} {"concept",8} {"colour",8} {"shape",8} {"seen",8}  file");
        static string P(double? v) => v is { } x ? x.ToString("P0", System.Globalization.CultureInfo.InvariantCulture) : "-";
        foreach (var (r, i) in learning.Rows.Select((r, i) => (r, i)))
            Console.WriteLine($"{r.Label,-10} {P(r.Concept.Accuracy("concept", learning.Concept)),8} {P(r.Concept.Accuracy("colour", true)),8} {P(r.Concept.Accuracy("shape", true)),8} {P(r.Seen.Accuracy("concept", false)),8}  " +
                (i == 0 ? Path.GetFileName(modelPath) : Path.GetFileName(outputs[i - 1].Path)));
        return 0;
    }
}
