using System.Globalization;
using System.Runtime.InteropServices;
using NotebookTrainer.Datasets;
using NotebookTrainer.Datasets.Captions;
using NotebookTrainer.Diffusion;
using NotebookTrainer.IO;
using NotebookTrainer.Models;
using NotebookTrainer.ModelConfigs;
using NotebookTrainer.Networks;
using NotebookTrainer.Optimizers;
using NotebookTrainer.Progress;
using NotebookTrainer.Sampling;
using NotebookTrainer.Tokenizers;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.Training;

/// <summary>
/// kohya's training loop for SD 1.x/2.x: train_network.py (a LoRA / LoCon / LoHa over the frozen U-Net and text
/// encoder), fine_tune.py and train_db.py (the model's own weights) and train_textual_inversion.py (new token
/// embeddings), on cached (or freshly encoded) VAE latents with DDPM noise, kohya bucket batches and the configured
/// optimizer and schedule. On an SDXL base it is sdxl_train_network.py: both text encoders condition the U-Net
/// (<see cref="TextEncoding.EncodeSdxl"/>) with each sample's size and crop (<see cref="SdxlSizeConditioning"/>).
/// What trains and what file it writes is the <see cref="TrainingTarget"/>; everything else is shared, including the
/// validation loss on images held out by validation_split (<see cref="ValidationLoss"/>).
/// Model files, save_state folders, CSV and TensorBoard logs go under output_dir.
/// </summary>
public sealed class Trainer : IDisposable
{
    readonly TrainingConfig config;
    readonly DatasetPlan dataset;
    readonly TrainingModels models;
    readonly Device device;
    readonly Action<string> log;
    readonly ForwardDiffusion schedule;
    readonly Optimizer optimizer;
    readonly LearningRateSchedule lrSchedule;
    readonly IReadOnlyList<ParameterGroup> groups;
    readonly Generator generator;
    readonly int? saveEveryNEpochs;
    readonly string sessionId = Guid.NewGuid().ToString("N");
    readonly Func<string, int[][]> tokenize;
    readonly Func<string, (int[][] Ids, float[][] Weights)>? tokenizeWeighted;
    /// <summary>cache_text_encoder_outputs: caption → (conditioning, SDXL pooled embedding), on the training device.</summary>
    readonly Dictionary<string, (Tensor Context, Tensor? Pooled)>? textCache;

    public Trainer(TrainingConfig config, DatasetPlan dataset, TrainingModels models, Device? device = null, Action<string>? log = null,
        TrainingMethod method = TrainingMethod.Network)
    {
        this.config = config;
        this.dataset = dataset;
        this.models = models;
        this.device = device ?? Runtime.TorchRuntime.DefaultDevice;
        this.log = log ?? (_ => { });
        schedule = new ForwardDiffusion(NoiseSchedule.StableDiffusion, config.ZeroTerminalSnr);
        if (dataset.BatchesPerEpoch == 0)
            throw new TrainingException($"{dataset.Config.SourceFile}: the dataset has no usable images; check image_dir, captions and the problems the dataset report lists.");
        if (config.CacheLatents && dataset.Config.Datasets.SelectMany(d => d.Subsets).FirstOrDefault(s => s.RandomCrop || s.ColorAug) is { } bad)
            throw new TrainingException($"{dataset.Config.SourceFile}: subset {bad.KeyPath} uses {(bad.RandomCrop ? "random_crop" : "color_aug")}, which cannot be combined with cache_latents; turn one of them off.");

        if (config.MaskedLoss && !dataset.Config.Datasets.SelectMany(d => d.Subsets).Any(s => s.AlphaMask))
            this.log("note: masked_loss = true, but no subset sets alpha_mask, so there are no masks and the loss covers whole images (ControlNet conditioning-image masks are not supported).");
        if (config.WeightedCaptions && models.TokenizeWeighted is null)
            throw new TrainingException("weighted_captions = true needs a tokenizer that reads (word:1.2) weights; these models were built without one.");

        if (models.IsSdxl) CheckSdxl(config, dataset, method, models, this.log);

        manual_seed(config.Seed);
        generator = new Generator((ulong)config.Seed, this.device);

        var frozen = config.FrozenDType;
        if (!TrainingTarget.TrainsUnetWeights(method)) models.Unet.to(frozen);
        models.Unet.to(this.device);
        if (!TrainingTarget.TrainsTextEncoderWeights(method, config)) models.TextEncoder.to(frozen);
        models.TextEncoder.to(this.device);
        models.TextEncoder2?.to(frozen).to(this.device);
        models.Vae.to(ScalarType.Float32).to(this.device);
        foreach (var m in ModelModules)
        {
            foreach (var p in m.parameters()) p.requires_grad = false;
            m.eval();
        }
        models.Unet.EnableGradientCheckpointing(config.GradientCheckpointing);

        Method = method;
        Target = TrainingTarget.Create(method, config, models, dataset, this.device, this.log);
        var maxTokens = config.MaxTokenLength ?? 75;
        tokenize = Target.Tokenizer is { } words ? caption => words.EncodeWindows(caption, maxTokens) : models.Tokenize;
        tokenizeWeighted = Target.Tokenizer is { } weighted
            ? caption => weighted.EncodeWeightedWindows(TrainingModelLoader.WeightedRuns(caption), maxTokens)
            : models.TokenizeWeighted;
        groups = Target.ParameterGroups;
        if (config.CacheTextEncoderOutputs)
            textCache = TextCacheOrReason() is { } why ? throw new TrainingException(why) : new Dictionary<string, (Tensor, Tensor?)>(StringComparer.Ordinal);
        optimizer = OptimizerFactory.Create(config.OptimizerType, groups, config.OptimizerArgs, this.log);

        var accumulation = config.GradientAccumulationSteps;
        var stepsPerEpoch = (dataset.BatchesPerEpoch + accumulation - 1) / accumulation;
        var totalSteps = config.MaxTrainEpochs is { } epochs ? epochs * stepsPerEpoch : config.MaxTrainSteps;
        var epochCount = (totalSteps + stepsPerEpoch - 1) / stepsPerEpoch;
        var warmup = LearningRateSchedule.ResolveWarmup(config.LrWarmupSteps, totalSteps);
        if (warmup > totalSteps)
            this.log($"note: lr_warmup_steps {warmup} is longer than the run ({totalSteps} steps): the learning rate ramps up for the whole run, as in sd-scripts.");
        lrSchedule = new LearningRateSchedule(config.LrScheduler, totalSteps, warmup, config.LrSchedulerNumCycles, config.LrSchedulerPower);
        Plan = BuildPlan(stepsPerEpoch, epochCount, totalSteps, warmup);
        // kohya: save_n_epoch_ratio replaces save_every_n_epochs with ⌊epochs / ratio⌋ (at least 1).
        saveEveryNEpochs = config.SaveNEpochRatio is { } ratio ? Math.Max(1, epochCount / ratio) : config.SaveEveryNEpochs;
    }

    IEnumerable<nn.Module> ModelModules => new nn.Module?[] { models.Unet, models.TextEncoder, models.TextEncoder2, models.Vae }.OfType<nn.Module>();

    /// <summary>sdxl_train_network.py's own checks (sdxl_train_util.verify_sdxl_training_args, assert_extra_args).</summary>
    static void CheckSdxl(TrainingConfig config, DatasetPlan dataset, TrainingMethod method, TrainingModels models, Action<string> log)
    {
        if (method != TrainingMethod.Network)
            throw new TrainingException($"{models.ModelName} is an SDXL model; on SDXL only LoRA / LoCon / LoHa training (sdxl_train_network.py) is available, not {method}.");
        if (config.V2) throw new TrainingException("v2 = true cannot be used with an SDXL base model (sd-scripts refuses it too); remove v2.");
        if (config.WeightedCaptions) throw new TrainingException("weighted_captions is not supported for SDXL training (sd-scripts' SDXL LoRA trainer does not apply caption weights either); remove weighted_captions.");
        if (dataset.Config.Datasets.FirstOrDefault(d => d.EnableBucket && d.BucketResoSteps % 32 != 0) is { } coarse)
            throw new TrainingException($"{dataset.Config.SourceFile}: dataset {coarse.Index + 1} has bucket_reso_steps = {coarse.BucketResoSteps}; SDXL needs a multiple of 32 (sd-scripts refuses others too).");
        if (models.Tokenize2 is null) throw new TrainingException($"{models.ModelName}: an SDXL model needs the tokenizer of its second text encoder.");
        if (config.ClipSkip is { } skip && skip != 1)
            log($"note: clip_skip = {skip} has no effect on SDXL, which always uses the penultimate layer of both text encoders (as in sd-scripts).");
    }

    /// <summary>Why cache_text_encoder_outputs cannot be used in this run (sd-scripts' conditions), or null.</summary>
    string? TextCacheOrReason()
    {
        if (Target.TrainsTextEncoder)
            return "cache_text_encoder_outputs needs text encoders that do not train (sd-scripts: \"network for Text Encoder cannot be trained with caching Text Encoder outputs\"); set network_train_unet_only = true or remove cache_text_encoder_outputs.";
        var changing = dataset.Config.Datasets.SelectMany(d => d.Subsets).FirstOrDefault(s => s.ShuffleCaption || s.CaptionDropoutRate > 0 || s.TokenWarmupStep > 0 || s.CaptionTagDropoutRate > 0);
        return changing is null ? null
            : $"{dataset.Config.SourceFile}: subset {changing.KeyPath} changes its captions from step to step (shuffle_caption, caption_dropout_rate, caption_tag_dropout_rate or token_warmup_step), so its text encoder outputs cannot be cached (sd-scripts refuses this too); turn those off or remove cache_text_encoder_outputs.";
    }

    public TrainingPlan Plan { get; }
    public TrainingMethod Method { get; }
    public TrainingTarget Target { get; }

    /// <summary>The network a train_network.py run trains (null for other methods).</summary>
    public LoraNetwork? Network => (Target as NetworkTarget)?.Network;

    /// <summary>Test hook: runs between writing a checkpoint or state to its temporary name and renaming it.</summary>
    internal Action<string>? BeforeCommit { get; set; }

    /// <summary>Where this run's saves, states, samples, record and logs go.</summary>
    RunFolder Run => RunFolder.Of(config, Target.OutputExtension);

    TrainingPlan BuildPlan(int stepsPerEpoch, int epochs, int totalSteps, long warmup)
    {
        var subsets = dataset.Images.Where(i => i.IsUsable).GroupBy(i => i.Subset)
            .Select(g => (Folder: Path.GetFileName((g.Key.ImageDir ?? g.Key.MetadataFile ?? "").TrimEnd('/')) + (g.Key.IsReg ? " (reg)" : ""), Images: g.Count(), Repeats: g.Key.NumRepeats)).ToList();
        var weightBytes = ModelModules.Sum(m => m.parameters().Sum(p => p.numel() * p.ElementSize))
                          + Target.AddedWeightBytes;
        var trainable = Target.ParameterCount;
        var optimizerSlots = optimizer is Lion or SgdNesterov ? 1 : optimizer is Prodigy or DAdaptAdam ? 4 : 2;
        return new TrainingPlan(dataset.NumTrainImages, dataset.NumRegImages, subsets,
            dataset.Buckets.Select(b => (b.Resolution.Width, b.Resolution.Height, b.Count)).ToList(),
            dataset.BatchesPerEpoch, config.GradientAccumulationSteps, stepsPerEpoch, epochs, totalSteps, warmup,
            dataset.Config.Datasets.Max(d => d.BatchSize),
            Target.Description, trainable, optimizer.Name, lrSchedule.Name, weightBytes + trainable * 4L * (1 + optimizerSlots), device.ToString());
    }

    /// <summary>
    /// Trains until the planned steps are done or <paramref name="cancellationToken"/> fires; cancellation finishes
    /// the current optimizer step and writes a resumable state. <paramref name="resumeFrom"/> is a save_state folder.
    /// </summary>
    public TrainingResult Train(IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default, string? resumeFrom = null)
    {
        Directory.CreateDirectory(Run.OutputDir);
        foreach (var line in AtomicFile.RecoverLeftovers(Run.OutputDir)) log($"output_dir: {line}");
        var startedAt = DateTimeOffset.UtcNow;
        RecordRun();
        log(Plan.ToString());
        if (device.type == DeviceType.CPU && !Runtime.TorchRuntime.CpuComputesNatively(config.FrozenDType))
            log($"note: this CPU has no {config.MixedPrecision} units: the frozen weights stay in {config.MixedPrecision} (half the memory of fp32) and each layer " +
                "does its math in fp32, a little slower than mixed_precision = \"no\" (benchmarks: lora-train).");

        var position = new TrainingPosition { Epoch = 1, Seed = config.Seed };
        if (resumeFrom is not null)
        {
            position = TrainingState.Load(resumeFrom, Target, optimizer, generator);
            if (position.Seed != config.Seed)
                throw new TrainingException($"--resume {resumeFrom}: the state was written with seed {position.Seed}, the config says {config.Seed}; use the same seed to continue exactly.");
            if (position.BatchInEpoch == 0 && position.Step > 0) position = position with { Epoch = position.Epoch + 1 };
            log($"resumed from {resumeFrom}: epoch {position.Epoch}, step {position.Step}, batch {position.BatchInEpoch} of the epoch.");
        }

        using var latents = new LatentCache(models.Vae, LatentCache.ModuleHash(models.Vae), config.CacheLatents,
            config.CacheLatents && config.CacheLatentsToDisk ? Run.LatentCacheDir : null,
            new Generator((ulong)config.Seed, device));
        var logDir = Run.LogDir(config.LoggingDir, config.LogPrefix);
        using var validation = dataset.Validation is { } held ? new ValidationLoss(held, config, schedule.Steps, logDir, append: resumeFrom is not null, device) : null;
        if (validation is not null) log(validation.ToString());
        if (config.CacheLatents) CacheAll(latents, validation?.Batches ?? [], progress is null ? null : new Progress<ProgressUpdate>(u => log(u.ToString())), cancellationToken);

        using var tensorBoard = new TensorBoardWriter(logDir);
        var csvPath = Path.Combine(logDir, RunFolder.LossLogFile);
        // A fresh run starts its log anew; a resumed run continues the one it resumes.
        using var csv = new StreamWriter(csvPath, append: resumeFrom is not null && File.Exists(csvPath)) { AutoFlush = true };
        if (csv.BaseStream.Position == 0) csv.WriteLine("step,epoch,loss,smoothed_loss," + string.Join(",", groups.Select(g => "lr_" + g.Name)));

        var losses = new List<(int, float, float)>();
        var tracker = new ProgressTracker("train", Plan.TotalSteps - position.Step, null);
        var step = position.Step;
        var batchesSeen = position.BatchesSeen;
        var smoothed = position.SmoothedLoss;
        string? lastState = null;
        string? lastOutput = null;
        var epoch = position.Epoch;
        var cancelled = false;
        var accumulated = 0;
        var accumulatedLoss = 0f;

        if (config.SampleAtFirst && step == 0) SampleImages(0, "before training", cancellationToken);
        for (; epoch <= Plan.Epochs && step < Plan.TotalSteps; epoch++)
        {
            var batches = dataset.BatchesForEpoch(epoch);
            var firstBatch = epoch == position.Epoch ? position.BatchInEpoch : 0;
            var consumed = firstBatch;
            for (var b = firstBatch; b < batches.Count && step < Plan.TotalSteps; b++)
            {
                consumed = b + 1;
                Target.BeforeStep(step);
                var random = new Random(unchecked(config.Seed * 1_000_003 + (int)batchesSeen));
                batchesSeen++;
                var loss = Forward(batches[b], latents, random, epoch, step);
                accumulated++;
                accumulatedLoss += loss;
                var lastOfEpoch = b == batches.Count - 1;
                if (accumulated < config.GradientAccumulationSteps && !lastOfEpoch) continue;

                if (config.MaxGradNorm > 0) nn.utils.clip_grad_norm_(Target.Parameters(), config.MaxGradNorm);
                lrSchedule.Apply(groups, step);
                optimizer.Step();
                optimizer.ZeroGrad();
                step++;
                var maxNorm = config.ScaleWeightNorms is { } limit && Network is { } network ? MaxNormRegularization.Apply(network, limit) : default;
                var stepLoss = accumulatedLoss / accumulated;
                accumulated = 0;
                accumulatedLoss = 0;
                // kohya's progress bar shows the mean loss of the last epoch; an EMA reads the same and survives resume.
                smoothed = step == 1 ? stepLoss : 0.95 * smoothed + 0.05 * stepLoss;
                losses.Add((step, stepLoss, (float)smoothed));
                csv.WriteLine(string.Join(",", new[] { step.ToString(CultureInfo.InvariantCulture), epoch.ToString(CultureInfo.InvariantCulture),
                    stepLoss.ToString("R", CultureInfo.InvariantCulture), smoothed.ToString("R", CultureInfo.InvariantCulture) }
                    .Concat(groups.Select(g => g.LearningRate.ToString("R", CultureInfo.InvariantCulture)))));
                tensorBoard.AddScalars(step, new[] { ("loss/current", stepLoss), ("loss/average", (float)smoothed) }
                    .Concat(groups.Select(g => ($"lr/{g.Name}", (float)EffectiveLearningRate(g))))
                    .Concat(config.ScaleWeightNorms is null ? [] : new[] { ("max_norm/keys_scaled", (float)maxNorm.KeysScaled), ("max_norm/average_key_norm", maxNorm.MeanNorm), ("max_norm/max_key_norm", maxNorm.MaxNorm) }));
                var afterThisBatch = new TrainingPosition { Epoch = epoch, Step = step, BatchInEpoch = b + 1, BatchesSeen = batchesSeen, SmoothedLoss = smoothed, Seed = config.Seed };
                var rate = tracker.Advance();
                progress?.Report(new TrainingProgress(step, Plan.TotalSteps, epoch, Plan.Epochs, stepLoss, (float)smoothed, EffectiveLearningRate(groups[^1]), rate));

                if (config.SaveEveryNSteps is { } everySteps && step % everySteps == 0)
                {
                    lastOutput = SaveOutput(Run.StepOutput(step), epoch, step, startedAt, null);
                    if (config.SaveState)
                    {
                        lastState = TrainingState.Save(Run.StepState(step), Target, optimizer, generator, afterThisBatch, BeforeCommit);
                    }
                    RemoveOldSteps(step);
                }

                if (config.SampleEveryNSteps is { } sampleSteps && step % sampleSteps == 0) SampleImages(step, $"step {step}", cancellationToken);
                if (validation?.DueAfterStep(step) == true) Validate(validation, "step", step, epoch, smoothed, latents, tensorBoard);

                if (cancellationToken.IsCancellationRequested && step < Plan.TotalSteps)
                {
                    lastState = TrainingState.Save(Run.InterruptedState(epoch), Target, optimizer, generator, afterThisBatch, BeforeCommit);
                    log($"cancelled after step {step}; resumable state in {lastState}");
                    cancelled = true;
                    break;
                }
            }
            if (cancelled) break;
            // max_train_steps can end a run mid-epoch: record how far into the epoch it got.
            var finishedEpoch = new TrainingPosition { Epoch = epoch, Step = step, BatchInEpoch = consumed < batches.Count ? consumed : 0, BatchesSeen = batchesSeen, SmoothedLoss = smoothed, Seed = config.Seed };
            var lastEpoch = epoch == Plan.Epochs || step >= Plan.TotalSteps;
            if (validation?.DueAfterEpoch(epoch) == true) Validate(validation, "epoch", step, epoch, smoothed, latents, tensorBoard);
            if (saveEveryNEpochs is { } every && epoch % every == 0 && !lastEpoch)
            {
                lastOutput = SaveOutput(Run.EpochOutput(epoch), epoch, step, startedAt, null);
                if (config.SaveState) lastState = TrainingState.Save(Run.EpochState(epoch), Target, optimizer, generator, finishedEpoch, BeforeCommit);
                RemoveOldEpochs(epoch);
            }
            if (lastEpoch && (config.SaveState || config.SaveStateOnTrainEnd))
                lastState = TrainingState.Save(Run.EpochState(epoch), Target, optimizer, generator, finishedEpoch, BeforeCommit);
            if (config.SampleEveryNEpochs is { } sampleEvery && epoch % sampleEvery == 0) SampleImages(epoch, $"epoch {epoch}", cancellationToken);
        }
        var finalEpoch = Math.Min(epoch, Plan.Epochs);
        if (!cancelled)
            lastOutput = SaveOutput(Run.FinalOutput, finalEpoch, step, startedAt, DateTimeOffset.UtcNow);
        return new TrainingResult(lastOutput, lastState, step, finalEpoch, cancelled, losses, Plan, validation?.Points ?? []);
    }

    /// <summary>
    /// kohya's sample_every_n_epochs / _steps / sample_at_first: images for each line of sample_prompts, with the
    /// LoRA as it is now, into <c>output_dir/sample</c>, numbered by <paramref name="epochOrStep"/> (the epoch, the
    /// step for step samples, 0 before training, as kohya names them). Sampling draws from its own per-image
    /// generators, so it does not change training.
    /// </summary>
    void SampleImages(int epochOrStep, string when, CancellationToken cancellationToken)
    {
        if (config.SamplePrompts is not { } promptsFile) return;
        if (Target.Tokenizer is null && models.TokenizerDir is null)
        {
            log("sample_prompts is set, but the base model has no tokenizer folder: no sample images.");
            return;
        }
        Target.SetTraining(false);
        try
        {
            var pipeline = StableDiffusionPipeline.Create(models.Unet, models.TextEncoder, models.Vae, Target.Tokenizer ?? ClipTokenizer.Load(models.TokenizerDir!),
                models.VPrediction ? NoiseSchedulerConfig.VPrediction : NoiseSchedulerConfig.Epsilon, config.ClipSkip ?? 1, device, models.TextEncoder2);
            var set = new SampleImageGenerator(pipeline).Run(SamplePromptFile.Load(promptsFile).Prompts,
                new SampleRunOptions(Run.OutputDir, config.OutputName, epochOrStep) { Seed = config.Seed, DefaultSampler = config.SampleSampler }, cancellation: cancellationToken);
            log($"{when}: {set.Images.Count} sample images in {Run.SampleDir} ({set.Elapsed.TotalSeconds:0.0} s)");
        }
        finally
        {
            Target.SetTraining(true);
        }
    }

    double EffectiveLearningRate(ParameterGroup group) => optimizer switch
    {
        Adafactor { RelativeStep: true } a => a.LastLearningRate,
        Prodigy p => p.D * group.LearningRate,
        DAdaptAdam d => d.D * group.LearningRate,
        _ => group.LearningRate,
    };

    /// <summary>One micro-batch: forward, loss, backward. Returns the unscaled loss.</summary>
    float Forward(TrainingBatch batch, LatentCache cache, Random random, int epoch, int step)
    {
        using var scope = NewDisposeScope();
        var loss = Loss(batch, cache, random, epoch, step, generator, timestep: null);
        var value = loss.item<float>();
        if (float.IsNaN(value) || float.IsInfinity(value))
            throw new TrainingException($"loss is {value} at step {step + 1}: lower the learning rate ({config.LearningRate}), keep max_grad_norm at 1.0, and with mixed_precision = \"fp16\" try \"bf16\" or \"no\".");
        (loss / config.GradientAccumulationSteps).backward();
        return value;
    }

    /// <summary>
    /// The batch's loss: noise (and fresh latents) from <paramref name="noise"/>, at random timesteps in [min_timestep,
    /// max_timestep), or all at <paramref name="timestep"/> (validation).
    /// </summary>
    Tensor Loss(TrainingBatch batch, LatentCache cache, Random random, int epoch, int step, Generator noise, long? timestep)
    {
        using var scope = NewDisposeScope();
        var flips = batch.Samples.Select(s => s.FlipAllowed && random.NextDouble() < 0.5).ToList();
        var captions = batch.Samples.Select(s => CaptionProcessor.Process(s.Caption, s.Subset, new CaptionContext(epoch, step, Plan.TotalSteps), random)).ToList();
        var encoded = batch.Samples.Select((s, i) => config.CacheLatents
            ? (Latents: cache.Get(s, batch.Resolution, flips[i]), Mask: cache.AlphaMask(s, batch.Resolution, flips[i]))
            : EncodeFresh(s, batch.Resolution, flips[i], random, noise)).ToList();
        var latents = stack(encoded.Select(e => e.Latents)).to(device) * models.Vae.Config.ScalingFactor;
        // As in sd-scripts: once one sample of the batch has an alpha mask, the others get an all-ones mask.
        var alphaMasks = encoded.All(e => e.Mask is null) ? null
            : stack(encoded.Select(e => e.Mask ?? ones(batch.Resolution.Height, batch.Resolution.Width))).to(device);

        var (hidden, pooled) = textCache is null ? Encode(captions) : Cached(captions);

        var sampled = NoiseSampler.Sample(latents, noise, config.NoiseOffset, config.MultiresNoiseIterations, config.MultiresNoiseDiscount,
            config.NoiseOffsetRandomStrength, config.AdaptiveNoiseScale);
        var timesteps = timestep is { } t
            ? full([latents.shape[0]], t, ScalarType.Int64, device: device)
            : NoiseSampler.Timesteps(latents.shape[0], config.MinTimestep ?? 0, config.MaxTimestep ?? schedule.Steps, noise, device);
        var noisy = schedule.AddNoise(latents, config.IpNoiseGamma is { } gamma ? NoiseSampler.InputPerturbation(sampled, noise, gamma, config.IpNoiseGammaRandomStrength) : sampled, timesteps);
        var unetDtype = models.Unet.conv_in.weight.dtype;
        var enableBucket = dataset.Config.Datasets.FirstOrDefault(d => d.Index == batch.DatasetIndex)?.EnableBucket ?? true;
        var timeIds = pooled is null ? null
            : tensor(batch.Samples.SelectMany((s, i) => SdxlSizeConditioning.TimeIds(s, batch.Resolution, flips[i], enableBucket)).ToArray()).reshape(-1, 6).to(device);
        Tensor prediction;
        try
        {
            prediction = models.Unet.forward(noisy.to(unetDtype), timesteps, hidden.to(unetDtype), pooled, timeIds);
        }
        catch (ExternalException e) when (e.Message.Contains("out of memory", StringComparison.OrdinalIgnoreCase))
        {
            throw new TrainingException($"out of memory at step {step + 1} (batch {batch.Resolution.Width}×{batch.Resolution.Height} × {batch.Samples.Count}): lower train_batch_size, set gradient_checkpointing = true, or use mixed_precision = \"bf16\".", e);
        }
        var target = config.VParameterization ? schedule.Velocity(latents, sampled, timesteps) : sampled;
        var weights = tensor(batch.Samples.Select(s => s.LossWeight).ToArray()).to(device);
        return DiffusionLoss.Compute(prediction, target, timesteps, weights, schedule, config.MinSnrGamma, config.VParameterization, config.DebiasedEstimationLoss,
            config.ScaleVPredLossLikeNoisePred, config.VPredLikeLoss, config.Loss, alphaMasks).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The U-Net's text conditioning for <paramref name="captions"/> and, on SDXL, text encoder 2's pooled embedding
    /// (null otherwise), with gradients only when a text encoder trains.
    /// </summary>
    (Tensor Context, Tensor? Pooled) Encode(IReadOnlyList<string> captions)
    {
        using var gradients = Target.TrainsTextEncoder ? null : no_grad();
        var tokenized = captions.Select(c => config.WeightedCaptions ? tokenizeWeighted!(c) : (Ids: tokenize(c), Weights: null)).ToList();
        var ids = Ids(tokenized.Select(t => t.Ids));
        if (models.TextEncoder2 is { } textEncoder2)
            return TextEncoding.EncodeSdxl(models.TextEncoder, textEncoder2, ids, Ids(captions.Select(models.Tokenize2!)));
        var hidden = TextEncoding.Encode(models.TextEncoder, ids, config.ClipSkip ?? 1);
        if (config.WeightedCaptions)
        {
            var windows = tokenized[0].Ids.Length;
            var tokenWeights = tensor(tokenized.SelectMany(t => t.Weights!.SelectMany(w => w)).ToArray()).reshape(captions.Count, windows, -1);
            hidden = TextEncoding.ApplyTokenWeights(hidden, tokenWeights);
        }
        return (hidden, null);
    }

    Tensor Ids(IEnumerable<int[][]> windowsPerCaption)
    {
        var rows = windowsPerCaption.ToList();
        return tensor(rows.SelectMany(w => w.SelectMany(ids => ids)).Select(i => (long)i).ToArray()).reshape(rows.Count, -1).to(device);
    }

    /// <summary>cache_text_encoder_outputs: each distinct caption is encoded once (the text encoders do not train).</summary>
    (Tensor Context, Tensor? Pooled) Cached(IReadOnlyList<string> captions)
    {
        var parts = new List<(Tensor Context, Tensor? Pooled)>();
        foreach (var caption in captions)
        {
            if (!textCache!.TryGetValue(caption, out var cached))
            {
                var (context, pooled) = Encode([caption]);
                cached = (context.DetachFromDisposeScope(), pooled?.DetachFromDisposeScope());
                textCache[caption] = cached;
            }
            parts.Add(cached);
        }
        return (cat(parts.Select(p => p.Context).ToList(), 0), parts[0].Pooled is null ? null : cat(parts.Select(p => p.Pooled!).ToList(), 0));
    }

    /// <summary>A validation pass with the target in eval mode (no dropout); logs its mean loss.</summary>
    void Validate(ValidationLoss validation, string kind, int step, int epoch, double trainingLoss, LatentCache cache, TensorBoardWriter tensorBoard)
    {
        Target.SetTraining(false);
        try
        {
            var point = validation.Run(kind, step, epoch, trainingLoss, (batch, random, noise, timestep) => Loss(batch, cache, random, epoch, step, noise, timestep), tensorBoard);
            log($"validation after {kind} {(kind == "epoch" ? epoch : step)}: loss {point.Loss:0.00000} (training {trainingLoss:0.00000})");
        }
        finally
        {
            Target.SetTraining(true);
        }
    }

    (Tensor Latents, Tensor? Mask) EncodeFresh(TrainingSample sample, (int Width, int Height) bucket, bool flip, Random random, Generator noise)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var (pixels, mask) = LatentCache.TrainingPixelsAndMask(sample, bucket, flip, random);
        using var posterior = models.Vae.encode(pixels.unsqueeze(0).to(device));
        return (posterior.sample(noise).squeeze(0).MoveToOuterDisposeScope(), mask?.MoveToOuterDisposeScope());
    }

    /// <summary>Encodes every training latent (then the validation ones, so a split does not change the training latents' draws).</summary>
    void CacheAll(LatentCache cache, IReadOnlyList<TrainingBatch> validationBatches, IProgress<ProgressUpdate>? progress, CancellationToken cancellationToken)
    {
        var work = new List<(TrainingSample Sample, (int, int) Bucket, bool Flip)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var batch in dataset.BatchesForEpoch(1).Concat(validationBatches))
            foreach (var s in batch.Samples)
                foreach (var flip in s.FlipAllowed ? new[] { false, true } : [false])
                    if (seen.Add($"{s.ImagePath}|{flip}")) work.Add((s, batch.Resolution, flip));
        var tracker = new ProgressTracker("caching latents", work.Count, progress);
        cache.CacheAll(work, config.VaeBatchSize, sample => tracker.Advance(detail: Path.GetFileName(sample.ImagePath)), cancellationToken);
        log($"latents: {cache.Encoded} encoded, {cache.ReadFromDisk} read from the disk cache.");
    }

    string SaveOutput(string path, int epoch, int step, DateTimeOffset startedAt, DateTimeOffset? finishedAt)
    {
        Target.Save(path, new SaveContext(config, dataset, Plan, models, optimizer.Name, epoch, step, startedAt, finishedAt, sessionId));
        log($"saved {path}");
        return path;
    }

    /// <summary>kohya's save_last_n_epochs (LoRA files, and states unless save_last_n_epochs_state says otherwise).</summary>
    void RemoveOldEpochs(int epoch)
    {
        if (saveEveryNEpochs is not { } every) return;
        if (config.SaveLastNEpochs is { } keep && epoch - every * keep is var old && old >= 1)
            DeleteOutput(Run.EpochOutput(old));
        if ((config.SaveLastNEpochsState ?? config.SaveLastNEpochs) is { } keepStates && epoch - every * keepStates is var oldState && oldState >= 1)
        {
            var state = Run.EpochState(oldState);
            if (Directory.Exists(state)) Directory.Delete(state, recursive: true);
        }
    }

    static void DeleteOutput(string path)
    {
        if (File.Exists(path)) File.Delete(path);
        else if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
    }

    /// <summary>
    /// kohya's save_last_n_steps (and save_last_n_steps_state for states): drops the step save that falls out of the
    /// last n steps.
    /// </summary>
    void RemoveOldSteps(int step)
    {
        if (config.SaveEveryNSteps is not { } every) return;
        int? Outdated(int? keep)
        {
            if (keep is not { } n) return null;
            var old = step - n - 1;
            old -= old % every;
            return old >= 1 ? old : null;
        }
        if (Outdated(config.SaveLastNSteps) is { } oldOutput)
            DeleteOutput(Run.StepOutput(oldOutput));
        if (Outdated(config.SaveLastNStepsState ?? config.SaveLastNSteps) is { } oldState && Run.StepState(oldState) is var state && Directory.Exists(state))
            Directory.Delete(state, recursive: true);
    }

    /// <summary>Writes the exact configs of this run next to its outputs.</summary>
    void RecordRun()
    {
        var run = Run.RecordDir;
        AtomicFile.WriteAllText(Path.Combine(run, RunFolder.RecordedConfigFile), config.ToToml());
        if (config.SourcePath is { } source && File.Exists(source)) AtomicFile.WriteAllText(Path.Combine(run, "training.source.toml"), File.ReadAllText(source));
        AtomicFile.WriteAllText(Path.Combine(run, "dataset.toml"), dataset.Config.ToToml());
        AtomicFile.WriteAllText(Path.Combine(run, "plan.txt"), Plan.ToString());
    }

    public void Dispose()
    {
        foreach (var (context, pooled) in textCache?.Values ?? Enumerable.Empty<(Tensor, Tensor?)>())
        {
            context.Dispose();
            pooled?.Dispose();
        }
        optimizer.Dispose();
        Target.Dispose();
        schedule.Dispose();
        generator.Dispose();
    }
}
