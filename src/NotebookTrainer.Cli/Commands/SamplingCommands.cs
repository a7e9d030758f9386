using System.CommandLine;
using NotebookTrainer.Analysis;
using NotebookTrainer.Diffusion;
using NotebookTrainer.Sampling;
using NotebookTrainer.Training;

using static NotebookTrainer.Cli.CliOptions;

namespace NotebookTrainer.Cli.Commands;

/// <summary><c>ntrain lora inspect|diff</c>, <c>ntrain sample [prompts]</c>, <c>ntrain log</c>, <c>ntrain judge</c>: options and printing.</summary>
public static class SamplingCommands
{
    public static Command Lora() => new("lora", "Inspect and compare LoRA files") { LoraInspect(), LoraDiff() };

    static Command LoraInspect()
    {
        var file = new Argument<string>("file.safetensors") { Description = "the LoRA file" };
        var json = Json();
        var topTags = NumberOptions.Whole("--top-tags", 20, "tags of the training captions to list");
        var command = new Command("inspect", "LoRA metadata, tag frequency, modules per block, rank/alpha, ‖ΔW‖") { file, json, topTags };
        command.SetAction(parse =>
        {
            var report = LoadReport(parse.GetRequiredValue(file), parse.GetValue(topTags));
            Console.WriteLine(parse.GetValue(json) ? report.ToJson() : report.ToText());
        });
        return command;
    }

    static Command LoraDiff()
    {
        var first = new Argument<string>("a.safetensors") { Description = "the first LoRA file" };
        var second = new Argument<string>("b.safetensors") { Description = "the second LoRA file" };
        var json = Json();
        var command = new Command("diff", "Modules only in one file, rank/alpha differences, norm ratios") { first, second, json };
        command.SetAction(parse =>
        {
            var comparison = new LoraComparison(LoadReport(parse.GetRequiredValue(first), 20), LoadReport(parse.GetRequiredValue(second), 20));
            Console.WriteLine(parse.GetValue(json) ? comparison.ToJson() : comparison.ToText());
        });
        return command;
    }

    static LoraReport LoadReport(string path, int topTags)
    {
        if (!File.Exists(path)) throw new CliException($"{path} does not exist; give a LoRA .safetensors file.");
        return LoraReport.Load(path, topTags);
    }

    static Option<string?> SamplerName() => new("--sampler") { Description = "the sampler for every prompt (kohya/A1111 names)", HelpName = "NAME" };

    static void CheckSampler(string? sampler)
    {
        if (sampler is null) return;
        try { SamplerCatalog.Create(sampler, NoiseSchedule.StableDiffusion); }
        catch (ArgumentException e) { throw new CliException("--sampler: " + e.Message); }
    }

    /// <summary>
    /// <c>ntrain sample --model PATH --prompts FILE --out DIR [--lora FILE[:WEIGHT]]… [--embedding FILE[:WORD]]…</c> writes
    /// kohya-named sample images; <c>ntrain sample prompts FILE</c> only checks a prompts file.
    /// </summary>
    public static Command Sample()
    {
        var model = new Option<string>("--model") { Description = "the base model: a checkpoint or a diffusers folder", HelpName = "PATH", Required = true };
        var config = new Option<string?>("--config") { Description = "the model's config folder, for a single file", HelpName = "DIR" };
        var tokenizer = new Option<string?>("--tokenizer") { Description = "the tokenizer folder, if the model has none", HelpName = "DIR" };
        var promptsFile = new Option<string>("--prompts") { Description = "kohya sample prompts (one per line, --w --h --s --l --d --n options)", HelpName = "FILE", Required = true };
        var output = new Option<string>("--out") { Description = "images go to DIR/sample", HelpName = "DIR", Required = true };
        var lora = new Option<string[]>("--lora") { Description = "a LoRA to apply, at WEIGHT (default 1); repeatable", HelpName = "FILE[:WEIGHT]" };
        var embedding = new Option<string[]>("--embedding") { Description = "a textual-inversion embedding, its word the file name unless given; repeatable", HelpName = "FILE[:WORD]" };
        var steps = NumberOptions.OptionalWhole("--steps", "sampling steps (default: each prompt's --s, else 30)", min: 1, max: 1000);
        var sampler = SamplerName();
        var seed = NumberOptions.OptionalWhole("--seed", "seed of the first prompt, +1 for each next (default: each prompt's --d, else random)");
        var name = new Option<string?>("--name") { Description = "the file names' prefix (default: the first LoRA's or the model's name)", HelpName = "NAME" };
        var epoch = NumberOptions.Whole("--epoch", 0, "the epoch in the file names");
        var clipSkip = NumberOptions.Whole("--clip-skip", 1, "text encoder layers to skip from the end");
        var dtype = new Option<string>("--dtype") { Description = "weights' precision: fp32, fp16 or bf16", HelpName = "fp32|fp16|bf16", DefaultValueFactory = _ => "fp32" };
        var command = new Command("sample", "Sample images with LoRAs and embeddings applied, kohya names in DIR/sample")
            { model, config, tokenizer, promptsFile, output, lora, embedding, steps, sampler, seed, name, epoch, clipSkip, dtype, SamplePrompts() };
        command.SetAction(parse =>
        {
            var modelPath = parse.GetRequiredValue(model);
            var prompts = LoadPrompts(parse.GetRequiredValue(promptsFile));
            foreach (var warning in prompts.Warnings) Console.Error.WriteLine("warning: " + warning);
            if (prompts.Prompts.Count == 0) throw new CliException($"{prompts.Path} has no prompts (only comments or blank lines).");
            CheckSampler(parse.GetValue(sampler));
            var loraSpecs = (parse.GetValue(lora) ?? []).Select(ParseLora).ToList();
            var scalarType = parse.GetRequiredValue(dtype) switch
            {
                "fp32" => TorchSharp.torch.ScalarType.Float32,
                "fp16" => TorchSharp.torch.ScalarType.Float16,
                "bf16" => TorchSharp.torch.ScalarType.BFloat16,
                var other => throw new CliException($"--dtype must be fp32, fp16 or bf16, not '{other}'."),
            };
            var device = Runtime.TorchRuntime.DefaultDevice;
            using var diffusion = Models.StableDiffusion.Load(modelPath, parse.GetValue(config), scalarType, device, new ConsoleProgress(), Ntrain.Cancellation);
            var embeddings = (parse.GetValue(embedding) ?? []).Select(ParseEmbedding).Select(e => Embeddings.TextualInversionEmbedding.Load(e.Path, e.Word)).ToList();
            foreach (var e in embeddings) Console.WriteLine($"embedding '{e.Word}': {e.Vectors.shape[0]} vectors");
            var pipeline = StableDiffusionPipeline.Create(diffusion, modelPath, parse.GetValue(tokenizer), parse.GetValue(clipSkip), embeddings);
            var loras = new List<(Networks.LoraNetwork Network, float Weight)>();
            try
            {
                foreach (var (path, weight) in loraSpecs)
                {
                    var (network, _) = Networks.LoraFile.Load(path, diffusion.Unet, diffusion.TextEncoder, device, diffusion.TextEncoder2);
                    if (network.UnmatchedNames.Count > 0)
                        Console.Error.WriteLine($"warning: {path}: {network.UnmatchedNames.Count} modules match no layer of the model (e.g. {network.UnmatchedNames[0]}).");
                    loras.Add((network, weight));
                }
                var prefix = parse.GetValue(name) ?? (loraSpecs.Count > 0 ? Path.GetFileNameWithoutExtension(loraSpecs[0].Path) : Path.GetFileNameWithoutExtension(modelPath));
                var options = new SampleRunOptions(parse.GetRequiredValue(output), prefix, parse.GetValue(epoch))
                {
                    Sampler = parse.GetValue(sampler),
                    Steps = parse.GetValue(steps),
                    Seed = parse.GetValue(seed),
                };
                var set = new SampleImageGenerator(pipeline).Run(prompts.Prompts, options, loras, new ConsoleProgress(), Ntrain.Cancellation);
                foreach (var image in set.Images)
                    Console.WriteLine($"{image.Path}  seed {image.Seed}, {image.Sampler}, {image.Steps} steps");
                Console.WriteLine($"{set.Images.Count} images in {set.Elapsed.TotalSeconds:0.0} s");
            }
            finally
            {
                foreach (var (network, _) in loras) network.Dispose();
            }
        });
        return command;
    }

    static Command SamplePrompts()
    {
        var file = new Argument<string>("prompts.txt") { Description = "the sample prompts file" };
        var sampler = SamplerName();
        var seed = NumberOptions.OptionalWhole("--seed", "seed of the first prompt, +1 for each next");
        var steps = NumberOptions.OptionalWhole("--steps", "sampling steps for every prompt");
        var command = new Command("prompts", "Check a kohya sample-prompts file: size, steps, CFG, sampler, seed") { file, sampler, seed, steps };
        command.SetAction(parse =>
        {
            var prompts = LoadPrompts(parse.GetRequiredValue(file));
            foreach (var warning in prompts.Warnings) Console.Error.WriteLine("warning: " + warning);
            CheckSampler(parse.GetValue(sampler));
            for (var i = 0; i < prompts.Prompts.Count; i++)
            {
                var p = prompts.Prompts[i];
                var samplerName = parse.GetValue(sampler) ?? p.Sampler ?? "ddim";
                var usedSeed = p.Seed ?? (parse.GetValue(seed) is { } s ? (long)s + i : null);
                Console.WriteLine($"{i:D2} line {p.Line}: {p.Width}x{p.Height}, {parse.GetValue(steps) ?? p.Steps} steps, CFG {p.CfgScale}, {SamplerCatalog.Describe(samplerName)}, seed {usedSeed?.ToString() ?? "random"}");
                Console.WriteLine($"   {p.Prompt}");
                if (p.NegativePrompt.Length > 0) Console.WriteLine($"   negative: {p.NegativePrompt}");
            }
        });
        return command;
    }

    static SamplePromptFile LoadPrompts(string path)
    {
        try { return SamplePromptFile.Load(path); }
        catch (FormatException e) { throw new CliException(e.Message); }
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
    public static Command Log()
    {
        var target = new Argument<string>("run-dir|loss.csv") { Description = "a training run's output_dir (or logging_dir), or the loss.csv in it" };
        var command = new Command("log", "Per-epoch mean loss of a training run, and its validation loss") { target };
        command.SetAction(parse =>
        {
            var path = parse.GetRequiredValue(target);
            if (!Directory.Exists(path) && !File.Exists(path))
                throw new CliException($"{path}: no such run folder or file; give a training run's output_dir (or logging_dir) or the loss.csv in it.");
            var log = RunLog.Load(Directory.Exists(path) ? RunLog.Find(path) : path);
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
        });
        return command;
    }

    /// <summary>
    /// <c>ntrain judge RUN_DIR [--model PATH] [--judge DIR] [--seeds N] [--seen-seeds N] [--final-only] [--json]</c>: the judged
    /// concept accuracy of the base model and of each output of a run (<see cref="ConceptLearning"/>).
    /// </summary>
    public static Command Judge()
    {
        var dir = new Argument<string>("run-dir") { Description = "the run's output folder" };
        var model = new Option<string?>("--model") { Description = "the base model (default: the one the run's training.toml names)", HelpName = "PATH" };
        var judge = new Option<string?>("--judge") { Description = "the world tagger's folder (default: the embedded one)", HelpName = "DIR" };
        var seeds = NumberOptions.Whole("--seeds", 8, "concept samples per output", min: 1);
        var seenSeeds = NumberOptions.OptionalWhole("--seen-seeds", "samples of each seen prompt per output (default: a quarter of --seeds)");
        var cfg = NumberOptions.Decimal("--cfg", new AccuracyOptions().CfgScale, "classifier-free guidance scale");
        var finalOnly = Flag("--final-only", "judge only the last output");
        var json = Json();
        var command = new Command("judge", "Judged concept accuracy (sks purple heart) of the base model and of each saved LoRA, checkpoint or embedding; seen prompts beside it")
            { dir, model, judge, seeds, seenSeeds, cfg, finalOnly, json };
        command.SetAction(parse =>
        {
            var folder = parse.GetRequiredValue(dir);
            if (!Directory.Exists(folder)) throw new CliException($"{folder} does not exist; give the output_dir of a training run.");
            var run = TrainingRun.Open(folder);
            if (run.Outputs.Count == 0) throw new CliException($"{folder} holds no LoRA, checkpoint or embedding to judge.");
            var modelPath = parse.GetValue(model) ?? run.BaseModelPath
                ?? throw new CliException($"{folder} has no run/training.toml naming its base model; give --model PATH.");
            var outputs = parse.GetValue(finalOnly) ? [run.FinalOutput!] : run.Outputs;
            using var diffusion = Models.StableDiffusion.Load(modelPath);
            using var tagger = Tagging.WdTaggerModel.Load(parse.GetValue(judge) ?? World.WorldModel.TaggerDirectory);
            var learning = ConceptLearning.Measure(diffusion, modelPath, tagger, outputs, Path.Combine(folder, "judged"),
                options: new AccuracyOptions { Seeds = parse.GetValue(seeds), CfgScale = parse.GetValue(cfg) }, seenSeeds: parse.GetValue(seenSeeds),
                progress: new ConsoleProgress(), cancellationToken: Ntrain.Cancellation);
            if (parse.GetValue(json))
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
                return;
            }
            Console.WriteLine($"{learning.Concept}: {learning.Rows[0].Concept.Samples.Count} concept and {learning.Rows[0].Seen.Samples.Count} seen samples per row, judged by the world tagger");
            Console.WriteLine($"{"",-10} {"concept",8} {"colour",8} {"shape",8} {"seen",8}  file");
            static string P(double? v) => v is { } x ? x.ToString("P0", System.Globalization.CultureInfo.InvariantCulture) : "-";
            foreach (var (r, i) in learning.Rows.Select((r, i) => (r, i)))
                Console.WriteLine($"{r.Label,-10} {P(r.Concept.Accuracy("concept", learning.Concept)),8} {P(r.Concept.Accuracy("colour", true)),8} {P(r.Concept.Accuracy("shape", true)),8} {P(r.Seen.Accuracy("concept", false)),8}  " +
                    (i == 0 ? Path.GetFileName(modelPath) : Path.GetFileName(outputs[i - 1].Path)));
        });
        return command;
    }
}
