using System.Globalization;
using NotebookTrainer.Datasets;
using NotebookTrainer.Images;
using NotebookTrainer.IO;
using NotebookTrainer.Models.Vae;
using NotebookTrainer.Optimizers;
using NotebookTrainer.Progress;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.Training;

/// <summary>Settings of a VAE training run (<see cref="VaeTrainer"/>).</summary>
public sealed record VaeTrainingOptions
{
    public required string OutputDir { get; init; }
    public int MaxSteps { get; init; } = 2000;
    public double LearningRate { get; init; } = 3e-4;

    /// <summary>kohya's lr_scheduler names; the default warms up over 2 % of the steps, then follows a cosine to 0.</summary>
    public string LrScheduler { get; init; } = "cosine";

    /// <summary>Random square crops of this side train the (fully convolutional) VAE at a fraction of the cost; 0 trains whole images.</summary>
    public int Crop { get; init; } = 32;

    /// <summary>Weight of the KL term (mean over latent elements) against the L1 + L2 reconstruction (mean over pixels).</summary>
    public double KlWeight { get; init; } = 1e-5;

    /// <summary>
    /// Trains only the decoder (and post_quant_conv), on whole images: the latents a U-Net learns from stay exactly as
    /// they are, while the decoder sees the group-norm statistics of full images that crops do not give it.
    /// </summary>
    public bool DecoderOnly { get; init; }

    public int Seed { get; init; } = 42;
    public int SaveEveryNSteps { get; init; } = 200;
}

/// <summary>How a VAE run ended; <see cref="Losses"/> holds (step, reconstruction loss, KL) per step.</summary>
public sealed record VaeTrainingResult(int Steps, bool Cancelled, string? StatePath, IReadOnlyList<(int Step, float Reconstruction, float Kl)> Losses);

/// <summary>
/// Trains an <see cref="AutoencoderKL"/> as an autoencoder with a KL-regularised latent, as Stable Diffusion's VAE was
/// trained (without its perceptual and adversarial terms): L1 + L2 between the image and the decoded posterior
/// sample, plus a small KL weight. Batches come from a kohya dataset (<see cref="DatasetPlan"/>), flipped at random,
/// cropped to <see cref="VaeTrainingOptions.Crop"/>. A state folder every <see cref="VaeTrainingOptions.SaveEveryNSteps"/>
/// and on cancellation lets a run resume exactly; the loss log is <c>vae-loss.csv</c> in the output folder.
/// </summary>
public sealed class VaeTrainer(AutoencoderKL vae, DatasetPlan dataset, VaeTrainingOptions options, Device? device = null, Action<string>? log = null)
{
    const string StateFolder = "vae-state";
    const string WeightsFile = "vae.safetensors";

    readonly Device device = device ?? Runtime.TorchRuntime.DefaultDevice;
    readonly Action<string> log = log ?? (_ => { });

    public VaeTrainingResult Train(IProgress<ProgressUpdate>? progress = null, CancellationToken cancellationToken = default)
    {
        if (dataset.BatchesPerEpoch == 0)
            throw new TrainingException($"{dataset.Config.SourceFile}: the dataset has no usable images for the VAE; check the image folder.");
        var output = Path.GetFullPath(options.OutputDir);
        Directory.CreateDirectory(output);
        foreach (var line in AtomicFile.RecoverLeftovers(output)) log($"{output}: {line}");

        manual_seed(options.Seed);
        vae.to(ScalarType.Float32).to(device);
        var trainable = (options.DecoderOnly ? vae.decoder.parameters().Concat(vae.post_quant_conv.parameters()) : vae.parameters()).ToList();
        foreach (var p in trainable) p.requires_grad = true;
        vae.train();
        if (options.DecoderOnly) vae.encoder.eval();
        using var generator = new Generator((ulong)options.Seed, device);
        var group = new ParameterGroup(options.DecoderOnly ? "vae decoder" : "vae", trainable, options.LearningRate);
        using var optimizer = OptimizerFactory.Create("AdamW", [group], ["weight_decay=0"], log);
        var schedule = new LearningRateSchedule(options.LrScheduler, options.MaxSteps, Math.Max(1, options.MaxSteps / 50));

        var statePath = Path.Combine(output, StateFolder);
        var position = new TrainingPosition { Epoch = 1, Seed = options.Seed };
        if (File.Exists(Path.Combine(statePath, "train_state.json")))
        {
            position = TrainingState.Load(statePath, WeightsFile, weights => LoadWeights(vae, weights), optimizer, generator);
            log($"resumed the VAE from {statePath} at step {position.Step}.");
        }

        var csvPath = Path.Combine(output, "vae-loss.csv");
        var losses = position.Step > 0 ? ReadLossLog(csvPath, position.Step) : [];
        AtomicFile.WriteAllText(csvPath, "step,reconstruction,kl\n" + string.Concat(losses.Select(l => LossLine(l.Step, l.Reconstruction, l.Kl))));
        using var csv = new StreamWriter(csvPath, append: true) { AutoFlush = true };
        var tracker = new ProgressTracker("VAE", options.MaxSteps - position.Step, progress);
        var step = position.Step;
        var epoch = position.Epoch;
        var batchInEpoch = position.BatchInEpoch;
        var cancelled = false;
        while (step < options.MaxSteps && !cancelled)
        {
            var batches = dataset.BatchesForEpoch(epoch);
            for (var b = batchInEpoch; b < batches.Count && step < options.MaxSteps; b++)
            {
                var random = new Random(unchecked(options.Seed * 1_000_003 + step));
                schedule.Apply([group], step);
                var (reconstruction, kl) = Step(batches[b], random, generator, optimizer);
                step++;
                losses.Add((step, reconstruction, kl));
                csv.Write(LossLine(step, reconstruction, kl));
                tracker.Advance(detail: string.Create(CultureInfo.InvariantCulture, $"L1+L2 {reconstruction:0.0000}"));
                var after = new TrainingPosition { Epoch = epoch, Step = step, BatchInEpoch = b + 1 == batches.Count ? 0 : b + 1, Seed = options.Seed };
                if (after.BatchInEpoch == 0) after = after with { Epoch = epoch + 1 };
                if (step % options.SaveEveryNSteps == 0 || step == options.MaxSteps || cancellationToken.IsCancellationRequested)
                    TrainingState.Save(statePath, WeightsFile, vae.state_dict(), optimizer, generator, after);
                if (cancellationToken.IsCancellationRequested && step < options.MaxSteps)
                {
                    log($"VAE training cancelled after step {step}; running again resumes from {statePath}.");
                    cancelled = true;
                    break;
                }
            }
            epoch++;
            batchInEpoch = 0;
        }
        foreach (var p in vae.parameters()) p.requires_grad = false;
        vae.eval();
        return new VaeTrainingResult(step, cancelled, statePath, losses);
    }

    static string LossLine(int step, float reconstruction, float kl) => string.Create(CultureInfo.InvariantCulture, $"{step},{reconstruction:R},{kl:R}\n");

    /// <summary>A resumed run's log up to the resumed step (a killed run may have logged steps after its last state).</summary>
    static List<(int Step, float Reconstruction, float Kl)> ReadLossLog(string path, int upToStep) =>
        !File.Exists(path) ? []
        : File.ReadLines(path).Skip(1).Select(line => line.Split(','))
            .Where(f => f.Length == 3 && int.TryParse(f[0], CultureInfo.InvariantCulture, out var step) && step <= upToStep)
            .Select(f => (int.Parse(f[0], CultureInfo.InvariantCulture), float.Parse(f[1], CultureInfo.InvariantCulture), float.Parse(f[2], CultureInfo.InvariantCulture)))
            .ToList();

    (float Reconstruction, float Kl) Step(TrainingBatch batch, Random random, Generator generator, Optimizer optimizer)
    {
        using var scope = NewDisposeScope();
        var images = TrainingImageLoader.LoadBatch(batch, random, device);
        if (options.Crop > 0 && options.Crop < Math.Min(images.shape[2], images.shape[3]))
        {
            var y = random.Next((int)images.shape[2] - options.Crop + 1);
            var x = random.Next((int)images.shape[3] - options.Crop + 1);
            images = images.narrow(2, y, options.Crop).narrow(3, x, options.Crop);
        }
        using var posterior = EncodeForTraining(images);
        var decoded = vae.decode(posterior.sample(generator));
        var error = decoded - images;
        var reconstruction = error.abs().mean() + error.square().mean();
        var kl = 0.5 * (posterior.Mean.square() + posterior.Std.square() - 1 - posterior.LogVar).mean();
        var loss = options.DecoderOnly ? reconstruction : reconstruction + options.KlWeight * kl;
        loss.backward();
        nn.utils.clip_grad_norm_(vae.parameters().Where(p => p.requires_grad), 1.0);
        optimizer.Step();
        optimizer.ZeroGrad();
        var value = reconstruction.item<float>();
        if (float.IsNaN(value) || float.IsInfinity(value))
            throw new TrainingException($"VAE loss is {value}; lower the learning rate ({options.LearningRate}).");
        return (value, kl.item<float>());
    }

    DiagonalGaussianDistribution EncodeForTraining(Tensor images)
    {
        if (!options.DecoderOnly) return vae.encode(images);
        using var _ = no_grad();
        return vae.encode(images);
    }

    static void LoadWeights(AutoencoderKL vae, IReadOnlyDictionary<string, Tensor> weights)
    {
        using var _ = no_grad();
        foreach (var (name, tensor) in vae.state_dict())
        {
            if (!weights.TryGetValue(name, out var saved) || !saved.shape.SequenceEqual(tensor.shape))
                throw new TrainingException($"the saved VAE state does not match this VAE at {name}; delete the state folder to start over.");
            tensor.copy_(saved);
        }
    }
}
