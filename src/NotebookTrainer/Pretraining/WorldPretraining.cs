using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using NotebookTrainer.Analysis;
using NotebookTrainer.Checkpoints;
using NotebookTrainer.Datasets;
using NotebookTrainer.Datasets.Config;
using NotebookTrainer.IO;
using NotebookTrainer.Images;
using NotebookTrainer.Models;
using NotebookTrainer.Progress;
using NotebookTrainer.Sampling;
using NotebookTrainer.Tagging;
using NotebookTrainer.Training;
using NotebookTrainer.World;
using static TorchSharp.torch;

namespace NotebookTrainer.Pretraining;

/// <summary>What one finished phase of a pretraining run measured.</summary>
public sealed record PhaseResult(string Name, double Seconds, IReadOnlyDictionary<string, string> Figures);

/// <summary>
/// Trains the embedded default model from scratch on the generated world, with the project's own trainers:
/// <list type="number">
/// <item>init — a random model of <see cref="WorldModel.Configs"/> (<see cref="TinyStableDiffusion.Write"/>);</item>
/// <item>data — the world as kohya image folders: the VAE's set (seen scenes and clutter), the U-Net's set (seen
/// shapes and colours only, captioned <c>red circle, white background</c>), and test sets;</item>
/// <item>vae — <see cref="VaeTrainer"/>; its PSNR on unseen scenes and on scenes with the held-out attributes; the latent
/// scaling factor measured as Stable Diffusion's was (1 / std of the latents); written into the base model file;</item>
/// <item>unet — <see cref="Trainer"/> with <see cref="TrainingMethod.FineTune"/> from a TOML config, exactly as
/// <c>ntrain finetune</c> runs it: text-conditioned ε-prediction on cached latents, captioned with a share of the shape
/// words made unknown (<see cref="UnknownShapeWords"/>; <c>.caption</c> files beside the images' true <c>.txt</c>), 10 % caption dropout for
/// classifier-free guidance, sd-scripts' v_pred_like_loss so the noisiest timesteps, where a shape is decided, weigh
/// as they would for a v-prediction model; the text encoder stays at its seeded initialisation;</item>
/// <item>decoder — the VAE decoder alone on whole images (the VAE phase trains on crops, whose group-norm statistics
/// differ from whole images'); the encoder and so the U-Net's latents stay fixed; the finished model goes to final/;</item>
/// <item>judge — <see cref="WorldTagger"/>, the tagger that judges samples;</item>
/// <item>evaluate — <see cref="AttributeAccuracy"/> over every colour × shape × background.</item>
/// </list>
/// Each phase records its result in <c>phases/NAME.json</c> and is skipped when run again unless a phase it depends on ran
/// again, or (the U-Net) more steps are asked for; the VAE, U-Net and decoder phases resume from their state folders, so a
/// cancelled or killed run continues where it stopped and a finished one can be trained further.
/// </summary>
public sealed class WorldPretraining(PretrainingOptions options, Action<string>? log = null)
{
    readonly Action<string> log = log ?? (_ => { });
    readonly string root = Path.GetFullPath(options.OutputDir);

    string Dir(params string[] parts) => Path.Combine([root, .. parts]);

    public string InitModel => Dir("init", WorldModel.ModelFileName);
    public string BaseModel => Dir("base", WorldModel.ModelFileName);
    public string UnetModel => Dir("unet", "output", WorldModel.ModelFileName);
    public string FinalModel => Dir("final", WorldModel.ModelFileName);
    public string TaggerDir => Dir("tagger");

    /// <summary>The phases the last <see cref="Run"/> worked on (none when every phase was done before).</summary>
    public IReadOnlyCollection<string> PhasesRun => rerun;

    readonly HashSet<string> rerun = [];

    public IReadOnlyList<PhaseResult> Run(IProgress<ProgressUpdate>? progress = null, CancellationToken cancellationToken = default)
    {
        rerun.Clear();
        Directory.CreateDirectory(root);
        var phases = new (string Name, string[] DependsOn, Func<Dictionary<string, string>> Work)[]
        {
            ("init", [], () => { TinyStableDiffusion.Write(Dir("init"), options.Seed, WorldModel.Configs); return []; }),
            ("data", [], () => WriteData(progress, cancellationToken)),
            ("vae", ["init", "data"], () => TrainVae(progress, cancellationToken)),
            ("unet", ["vae"], () => TrainUnet(progress, cancellationToken)),
            ("decoder", ["unet"], () => TrainDecoder(progress, cancellationToken)),
            ("judge", ["data"], () => TrainJudge(progress, cancellationToken)),
            ("evaluate", ["decoder", "judge"], () => Evaluate(progress, cancellationToken)),
        };
        var results = new List<PhaseResult>();
        foreach (var (name, dependsOn, work) in phases)
        {
            var record = Dir("phases", name + ".json");
            var earlier = File.Exists(record) ? JsonSerializer.Deserialize<PhaseResult>(File.ReadAllText(record))! : null;
            var changed = dependsOn.FirstOrDefault(rerun.Contains);
            var trainFurther = changed is null && name == "unet" && earlier is not null
                && earlier.Figures.GetValueOrDefault("steps") != options.UnetSteps.ToString(CultureInfo.InvariantCulture);
            var why = earlier is null ? null
                : changed is not null ? $"{changed} ran again"
                : trainFurther ? $"{earlier.Figures.GetValueOrDefault("steps")} steps done, {options.UnetSteps} asked; it resumes from its last state"
                : null;
            if (earlier is not null && why is null)
            {
                results.Add(earlier);
                log($"{name}: done before, skipped ({record}).");
                continue;
            }
            cancellationToken.ThrowIfCancellationRequested();
            log(why is null ? $"{name}: started." : $"{name}: runs again ({why}).");
            rerun.Add(name);
            var clock = Stopwatch.StartNew();
            var figures = work();
            // The trainers resume from their states rather than start over, so a phase run again costs its earlier time too.
            var seconds = clock.Elapsed.TotalSeconds + (earlier is not null && name is "vae" or "unet" or "decoder" ? earlier.Seconds : 0);
            var result = new PhaseResult(name, Math.Round(seconds, 1), figures);
            AtomicFile.WriteAllText(record, JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true }));
            log($"{name}: done in {result.Seconds:0} s{string.Concat(figures.Select(f => $"; {f.Key} {f.Value}"))}.");
            results.Add(result);
        }
        return results;
    }

    static string F(double value, string format = "0.000") => value.ToString(format, CultureInfo.InvariantCulture);

    Dictionary<string, string> WriteData(IProgress<ProgressUpdate>? progress, CancellationToken cancellationToken)
    {
        var side = WorldModel.Resolution;
        WorldDataset.Write(Dir("data", "vae", "1_vae"), SceneOptions.Pretraining with { Clutter = options.VaeClutter }, options.VaeImages, options.Seed + 1, side, progress: progress, cancellationToken: cancellationToken);
        WorldDataset.Write(Dir("data", "unet", "1_world"), SceneOptions.Pretraining, options.UnetImages, options.Seed + 2, side, progress: progress, cancellationToken: cancellationToken);
        WorldDataset.Write(Dir("data", "test-seen"), SceneOptions.Pretraining, options.TestImages, options.Seed + 3, side, progress: progress, cancellationToken: cancellationToken);
        var half = Math.Max(1, options.TestImages / 2);
        WorldDataset.Write(Dir("data", "test-held-out", "heart"), SceneOptions.Everything with { Shapes = [WorldAttributes.HeldOutShape] }, half, options.Seed + 4, side, progress: progress, cancellationToken: cancellationToken);
        WorldDataset.Write(Dir("data", "test-held-out", "purple"), SceneOptions.Everything with { Colours = [WorldAttributes.HeldOutColour] }, half, options.Seed + 5, side, progress: progress, cancellationToken: cancellationToken);
        return new() { ["vae_images"] = options.VaeImages.ToString(CultureInfo.InvariantCulture), ["unet_images"] = options.UnetImages.ToString(CultureInfo.InvariantCulture) };
    }

    static IReadOnlyList<string> Images(string dir) =>
        Directory.EnumerateFiles(dir, "*.png", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();

    DatasetPlan VaeDataset() => DatasetPlan.Build(DatasetConfig.FromFolders(Dir("data", "vae"), null, new DatasetArguments
    {
        Resolution = WorldModel.Resolution, BatchSize = options.VaeBatchSize, CaptionExtension = ".txt", FlipAug = true,
    }));

    Dictionary<string, string> TrainVae(IProgress<ProgressUpdate>? progress, CancellationToken cancellationToken)
    {
        var dataset = VaeDataset();
        using var model = StableDiffusion.Load(InitModel);
        var result = new VaeTrainer(model.Vae, dataset, new VaeTrainingOptions
        {
            OutputDir = Dir("vae"), MaxSteps = options.VaeSteps, LearningRate = options.VaeLearningRate, Seed = options.Seed,
        }, log: log).Train(progress, cancellationToken);
        if (result.Cancelled) throw new OperationCanceledException($"VAE training stopped at step {result.Steps}; run again to resume.");

        var seen = ReconstructionQuality.Psnr(model.Vae, Images(Dir("data", "test-seen")));
        var heldOut = ReconstructionQuality.Psnr(model.Vae, Images(Dir("data", "test-held-out")));
        var scalingFactor = ScalingFactor(model.Vae, Images(Dir("data", "unet")).Take(1024).ToList());
        WriteBaseModel(model.Vae, scalingFactor);
        return new()
        {
            ["steps"] = result.Steps.ToString(CultureInfo.InvariantCulture),
            ["final_reconstruction_loss"] = F(result.Losses.TakeLast(50).Average(l => l.Reconstruction), "0.0000"),
            ["psnr_seen_db"] = F(seen, "0.00"),
            ["psnr_held_out_db"] = F(heldOut, "0.00"),
            ["scaling_factor"] = F(scalingFactor, "0.00000"),
        };
    }

    /// <summary>1 / std of the posterior means of <paramref name="images"/>: scaled latents have unit variance, as SD's 0.18215 was chosen.</summary>
    static double ScalingFactor(Models.Vae.AutoencoderKL vae, IReadOnlyList<string> images)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var means = new List<Tensor>();
        foreach (var chunk in images.Chunk(64))
        {
            var batch = stack(chunk.Select(path =>
            {
                using var bitmap = ImageFiles.Decode(path);
                return ImageTensors.FromBitmap(bitmap);
            }));
            using var posterior = vae.encode(batch);
            means.Add(posterior.Mean.clone());
        }
        return 1.0 / cat(means).std().item<float>();
    }

    /// <summary>The init model with the trained VAE and its scaling factor: the base the U-Net trains on.</summary>
    void WriteBaseModel(Models.Vae.AutoencoderKL vae, double scalingFactor) => WriteModel(InitModel, vae, scalingFactor, BaseModel);

    /// <summary>
    /// <paramref name="source"/> with its VAE replaced by <paramref name="vae"/> (in the source's precision), written with
    /// config/ and tokenizer/ beside it.
    /// </summary>
    static void WriteModel(string source, Models.Vae.AutoencoderKL vae, double? scalingFactor, string target)
    {
        using var weights = CheckpointLoader.Load(source);
        var dtype = weights.Vae.Values.First().dtype;
        foreach (var t in weights.Vae.Values) t.Dispose();
        weights.Vae.Clear();
        foreach (var (name, tensor) in vae.state_dict()) weights.Vae[name] = tensor.detach().to(dtype).clone();
        if (scalingFactor is { } factor) weights.Configs.Vae["scaling_factor"] = factor;
        var dir = Path.GetDirectoryName(target)!;
        weights.Configs.Write(Path.Combine(dir, TinyStableDiffusion.ConfigFolder));
        CopyFolder(Path.Combine(Path.GetDirectoryName(source)!, TinyStableDiffusion.TokenizerFolder), Path.Combine(dir, TinyStableDiffusion.TokenizerFolder));
        CheckpointWriter.WriteSingleFile(weights, target);
    }

    Dictionary<string, string> TrainUnet(IProgress<ProgressUpdate>? progress, CancellationToken cancellationToken)
    {
        var replaced = WriteUnetCaptions();
        var configPath = WriteUnetConfig();
        var config = TrainingConfig.Load(configPath);
        var dataset = TrainingDataset.Build(config, progress: progress, cancellationToken: cancellationToken);
        using var models = TrainingModelLoader.Load(config, progress: progress, cancellationToken: cancellationToken, method: TrainingMethod.FineTune);
        using var trainer = new Trainer(config, dataset, models, log: log, method: TrainingMethod.FineTune);
        log(trainer.Plan.ToString());
        var resume = LatestState(config.OutputDir);
        if (resume is not null) log($"resuming the U-Net from {resume}");
        var tracker = new ProgressTracker("U-Net", trainer.Plan.TotalSteps - (resume is null ? 0 : TrainingState.ReadPosition(resume).Step), progress);
        var result = trainer.Train(new TrainingProgressSink(p => tracker.Advance(detail: string.Create(CultureInfo.InvariantCulture, $"loss {p.SmoothedLoss:0.0000}"))), cancellationToken, resume);
        if (result.Cancelled) throw new OperationCanceledException($"U-Net training stopped at step {result.Steps}; run again to resume from {result.StatePath}.");
        return new()
        {
            ["steps"] = result.Steps.ToString(CultureInfo.InvariantCulture),
            ["final_smoothed_loss"] = F(result.Losses.Count > 0 ? result.Losses[^1].SmoothedLoss : double.NaN, "0.0000"),
            ["trainable_parameters"] = trainer.Plan.TrainableParameters.ToString(CultureInfo.InvariantCulture),
            ["unknown_shape_word_captions"] = replaced.ToString(CultureInfo.InvariantCulture),
        };
    }

    public const string UnetCaptionExtension = ".caption";

    /// <summary>
    /// Writes the caption the U-Net trains on beside each image of its set: the true <c>.txt</c> caption with a share of
    /// its shape words replaced (<see cref="PretrainingOptions.UnknownShapeWordRate"/>, its own seeded draw, so a resumed
    /// run writes the same files). Returns how many captions have a replaced word.
    /// </summary>
    int WriteUnetCaptions()
    {
        var random = new Random(options.Seed + 6);
        var replaced = 0;
        foreach (var truth in Directory.EnumerateFiles(Dir("data", "unet"), "*.txt", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var caption = File.ReadAllText(truth).Trim();
            var taught = UnknownShapeWords.Replace(caption, options.UnknownShapeWordRate, random);
            if (taught != caption) replaced++;
            AtomicFile.WriteAllText(Path.ChangeExtension(truth, UnetCaptionExtension), taught + "\n");
        }
        return replaced;
    }

    /// <summary>The fine-tuning config as a user would write it for <c>ntrain finetune</c> (kohya fine_tune.py keys).</summary>
    string WriteUnetConfig()
    {
        static string Q(string path) => JsonSerializer.Serialize(path);
        var datasetPath = Dir("unet", "dataset.toml");
        AtomicFile.WriteAllText(datasetPath, $"""
            # The world the U-Net is pretrained on (written by ntrain pretrain).
            [general]
            enable_bucket = false
            caption_extension = "{UnetCaptionExtension}"
            flip_aug = true

            [[datasets]]
            resolution = {WorldModel.Resolution}
            batch_size = {options.UnetBatchSize}

              [[datasets.subsets]]
              image_dir = {Q(Dir("data", "unet", "1_world"))}
              num_repeats = 1
            """);
        var path = Dir("unet", "training.toml");
        var warmup = Math.Max(1, options.UnetSteps / 20);
        AtomicFile.WriteAllText(path, string.Create(CultureInfo.InvariantCulture, $"""
            # Pretraining of the world model's U-Net from random weights (written by ntrain pretrain; run by hand with
            # ntrain finetune --config training.toml).
            pretrained_model_name_or_path = {Q(BaseModel)}
            dataset_config = {Q(datasetPath)}
            output_dir = {Q(Dir("unet", "output"))}
            output_name = "{Path.GetFileNameWithoutExtension(WorldModel.ModelFileName)}"
            save_precision = "fp16"
            save_every_n_steps = {Math.Max(1, options.UnetSteps / 8)}
            save_last_n_steps = {Math.Max(1, options.UnetSteps / 8)}
            save_state = true
            optimizer_type = "AdamW"
            optimizer_args = ["weight_decay=0.01"]
            learning_rate = {options.UnetLearningRate:R}
            lr_scheduler = "cosine"
            lr_warmup_steps = {warmup}
            max_train_steps = {options.UnetSteps}
            max_grad_norm = 1.0
            v_pred_like_loss = 1.0
            caption_dropout_rate = 0.1
            mixed_precision = "no"
            cache_latents = true
            cache_latents_to_disk = true
            vae_batch_size = {options.UnetBatchSize}
            seed = {options.Seed}
            """));
        return path;
    }

    static string? LatestState(string outputDir) =>
        Directory.Exists(outputDir)
            ? Directory.EnumerateDirectories(outputDir).Where(d => RunFolder.IsStateFolder(d) && File.Exists(Path.Combine(d, "train_state.json")))
                .OrderByDescending(d => TrainingState.ReadPosition(d).Step).FirstOrDefault()
            : null;

    /// <summary>
    /// Fine-tunes the VAE decoder of the trained model on whole images (<see cref="VaeTrainingOptions.DecoderOnly"/>):
    /// the crops of the VAE phase leave it short of full-image quality, and the encoder — with the latents the U-Net
    /// learned — stays exactly as it is. Writes the finished model into final/.
    /// </summary>
    Dictionary<string, string> TrainDecoder(IProgress<ProgressUpdate>? progress, CancellationToken cancellationToken)
    {
        var dataset = VaeDataset();
        using var model = StableDiffusion.Load(UnetModel);
        var result = new VaeTrainer(model.Vae, dataset, new VaeTrainingOptions
        {
            OutputDir = Dir("decoder"), MaxSteps = options.DecoderSteps, LearningRate = options.VaeLearningRate, Seed = options.Seed,
            Crop = 0, DecoderOnly = true,
        }, log: log).Train(progress, cancellationToken);
        if (result.Cancelled) throw new OperationCanceledException($"decoder training stopped at step {result.Steps}; run again to resume.");

        var seen = ReconstructionQuality.Psnr(model.Vae, Images(Dir("data", "test-seen")));
        var heldOut = ReconstructionQuality.Psnr(model.Vae, Images(Dir("data", "test-held-out")));
        WriteModel(UnetModel, model.Vae, null, FinalModel);
        return new()
        {
            ["steps"] = result.Steps.ToString(CultureInfo.InvariantCulture),
            ["final_reconstruction_loss"] = F(result.Losses.TakeLast(50).Average(l => l.Reconstruction), "0.0000"),
            ["psnr_seen_db"] = F(seen, "0.00"),
            ["psnr_held_out_db"] = F(heldOut, "0.00"),
        };
    }

    Dictionary<string, string> TrainJudge(IProgress<ProgressUpdate>? progress, CancellationToken cancellationToken)
    {
        var fit = WorldTagger.Train(TaggerDir, options.Seed, options.Judge, progress, cancellationToken);
        log(fit.ToString());
        return fit.Test.Targets.ToDictionary(t => t.Name.Replace(' ', '_'), t => F(t.Accuracy));
    }

    Dictionary<string, string> Evaluate(IProgress<ProgressUpdate>? progress, CancellationToken cancellationToken)
    {
        using var model = StableDiffusion.Load(FinalModel);
        var generator = new SampleImageGenerator(StableDiffusionPipeline.Create(model, FinalModel));
        using var judge = WdTaggerModel.Load(TaggerDir, preferGpu: false);
        var prompts = AttributePrompt.Grid(WorldAttributes.Colours, WorldAttributes.Shapes, WorldAttributes.Backgrounds);
        var accuracy = AttributeAccuracy.Measure(generator, judge, prompts, Dir("evaluate", "samples"),
            new AccuracyOptions { Seeds = options.EvaluationSeeds, Label = "pretrained base" }, progress: progress, cancellationToken: cancellationToken);
        AtomicFile.WriteAllText(Dir("evaluate", "attribute-accuracy.json"), accuracy.ToJson());
        log(accuracy.ToString());
        return accuracy.Summary().ToDictionary(s => $"{s.Attribute}_{(s.HeldOut ? "held_out" : "seen")}", s => F(s.Accuracy, "0.000"));
    }

    /// <summary>Appends a command that worked on this run to <c>commands.txt</c>; the provenance lists them in order.</summary>
    public void RecordCommand(string commandLine)
    {
        Directory.CreateDirectory(root);
        File.AppendAllText(Dir("commands.txt"), commandLine + Environment.NewLine);
    }

    /// <summary>
    /// Copies the trained model (with config/ and tokenizer/), the judge (tagger/), the loss logs and the evaluation
    /// into <paramref name="dir"/> — the folder committed as the embedded default — with a provenance file naming the
    /// commands, seed, commit, machine, phase times and figures.
    /// </summary>
    public void Install(string dir, IReadOnlyList<PhaseResult> results)
    {
        var commit = PretrainingProvenance.GitCommit();   // before the copy below changes the checkout it may sit in
        var commands = File.Exists(Dir("commands.txt")) ? File.ReadAllLines(Dir("commands.txt")).Where(l => l.Length > 0).ToList() : [];
        var output = Path.GetDirectoryName(FinalModel)!;
        AtomicFile.WriteAllBytes(Path.Combine(dir, WorldModel.ModelFileName), File.ReadAllBytes(FinalModel));
        CopyFolder(Path.Combine(output, TinyStableDiffusion.ConfigFolder), Path.Combine(dir, TinyStableDiffusion.ConfigFolder));
        CopyFolder(Path.Combine(output, TinyStableDiffusion.TokenizerFolder), Path.Combine(dir, TinyStableDiffusion.TokenizerFolder));
        CopyFolder(TaggerDir, Path.Combine(dir, WorldModel.TaggerFolder));
        var logs = Path.Combine(dir, "pretraining");
        AtomicFile.WriteAllBytes(Path.Combine(logs, "vae-loss.csv"), File.ReadAllBytes(Dir("vae", "vae-loss.csv")));
        AtomicFile.WriteAllBytes(Path.Combine(logs, "decoder-loss.csv"), File.ReadAllBytes(Dir("decoder", "vae-loss.csv")));
        var unetLog = Directory.EnumerateFiles(Dir("unet", "output"), RunFolder.LossLogFile, SearchOption.AllDirectories).First();
        AtomicFile.WriteAllBytes(Path.Combine(logs, "unet-loss.csv"), File.ReadAllBytes(unetLog));
        AtomicFile.WriteAllBytes(Path.Combine(logs, "training.toml"), File.ReadAllBytes(Dir("unet", "training.toml")));
        AtomicFile.WriteAllBytes(Path.Combine(logs, "attribute-accuracy.json"), File.ReadAllBytes(Dir("evaluate", "attribute-accuracy.json")));
        AtomicFile.WriteAllText(Path.Combine(dir, "PROVENANCE.md"), PretrainingProvenance.Write(options, results, commands, commit, Dir("unet", "training.toml")));
    }

    static void CopyFolder(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
            AtomicFile.WriteAllBytes(Path.Combine(to, Path.GetRelativePath(from, file)), File.ReadAllBytes(file));
    }
}
