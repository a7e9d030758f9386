using System.Globalization;
using NotebookTrainer.Datasets;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.Training;

/// <summary>One validation pass: the mean loss over the held-out batches and fixed timesteps, and per timestep.</summary>
/// <param name="Kind">"step" (validate_every_n_steps) or "epoch" (end of an epoch).</param>
/// <param name="Divergence">Validation loss minus the smoothed training loss at that point (sd-scripts' */validation/*_divergence).</param>
public sealed record ValidationPoint(int Step, int Epoch, string Kind, double Loss, double Divergence, IReadOnlyList<(int Timestep, double Loss)> PerTimestep);

/// <summary>
/// sd-scripts' validation loss (train_network.py): the images validation_split holds out, in a fixed batch order, each
/// batch at the four timesteps that split [min_timestep, max_timestep] into five equal parts (200, 400, 600, 800 by
/// default) with noise from a generator reseeded with validation_seed (else seed) at the start of every pass, captions
/// processed with a generator seeded the same way and no flips; so every pass sees exactly the same inputs and the
/// curve is comparable across epochs and across runs. Passes run at every epoch end (or every validate_every_n_epochs)
/// and every validate_every_n_steps steps, over at most max_validation_steps batches; each is the mean over
/// batches × timesteps, logged to <c>validation.csv</c> beside loss.csv and to TensorBoard as
/// loss/validation/{step,epoch}_average and _divergence (epoch scalars at x = epoch, as sd-scripts logs them).
/// </summary>
public sealed class ValidationLoss : IDisposable
{
    /// <summary>The loss of one batch at one timestep, with the given caption randomness and noise generator (no gradients needed).</summary>
    public delegate Tensor BatchLoss(TrainingBatch batch, Random random, Generator noise, long timestep);

    readonly int seed;
    readonly int? everySteps;
    readonly int? everyEpochs;
    readonly int imageCount;
    readonly Device device;
    readonly StreamWriter csv;
    readonly List<ValidationPoint> points = [];

    public ValidationLoss(DatasetPlan held, TrainingConfig config, int trainTimesteps, string logDir, bool append, Device device)
    {
        this.device = device;
        seed = held.Options.Seed;
        everySteps = config.ValidateEveryNSteps;
        everyEpochs = config.ValidateEveryNEpochs;
        var batches = held.BatchesForEpoch(1)
            .Select(b => b with { Samples = b.Samples.Select(s => s with { FlipAllowed = false, LossWeight = 1f }).ToList() });
        Batches = (config.MaxValidationSteps is { } max ? batches.Take(max) : batches).ToList();
        imageCount = held.NumTrainImages;
        Timesteps = FixedTimesteps(config.MinTimestep ?? 0, config.MaxTimestep ?? trainTimesteps);
        Directory.CreateDirectory(logDir);
        var path = Path.Combine(logDir, RunFolder.ValidationLogFile);
        csv = new StreamWriter(path, append: append && File.Exists(path)) { AutoFlush = true };
        if (csv.BaseStream.Position == 0)
            csv.WriteLine("step,epoch,kind,loss,divergence," + string.Join(",", Timesteps.Select(t => $"loss_t{t}")));
    }

    /// <summary>The validation batches in the order every pass uses (flips off, weight 1).</summary>
    public IReadOnlyList<TrainingBatch> Batches { get; }

    /// <summary>numpy.linspace(min, max, 6, dtype=int)[1:-1], as sd-scripts computes them.</summary>
    public IReadOnlyList<int> Timesteps { get; }

    /// <summary>The passes run in this session, oldest first.</summary>
    public IReadOnlyList<ValidationPoint> Points => points;

    public static int[] FixedTimesteps(int min, int max)
    {
        var step = (max - min) / 5.0;
        return Enumerable.Range(1, 4).Select(i => (int)Math.Floor(i * step + min)).ToArray();
    }

    public bool DueAfterStep(int step) => everySteps is { } n && step % n == 0;

    public bool DueAfterEpoch(int epoch) => everyEpochs is not { } n || epoch % n == 0;

    public ValidationPoint Run(string kind, int step, int epoch, double trainingLoss, BatchLoss loss, TensorBoardWriter? tensorBoard = null)
    {
        using var _ = no_grad();
        var random = new Random(seed);
        var sums = new double[Timesteps.Count];
        using (var noise = new Generator((ulong)seed, device))
        {
            foreach (var batch in Batches)
                for (var i = 0; i < Timesteps.Count; i++)
                {
                    using var scope = NewDisposeScope();
                    sums[i] += loss(batch, random, noise, Timesteps[i]).item<float>();
                }
        }
        var perTimestep = Timesteps.Select((t, i) => (t, sums[i] / Batches.Count)).ToList();
        var mean = perTimestep.Average(p => p.Item2);
        var point = new ValidationPoint(step, epoch, kind, mean, mean - trainingLoss, perTimestep);
        points.Add(point);
        static string R(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        csv.WriteLine(string.Join(",", new[] { step.ToString(CultureInfo.InvariantCulture), epoch.ToString(CultureInfo.InvariantCulture), kind, R(mean), R(point.Divergence) }
            .Concat(perTimestep.Select(p => R(p.Item2)))));
        tensorBoard?.AddScalars(kind == "epoch" ? epoch : step,
            [($"loss/validation/{kind}_average", (float)mean), ($"loss/validation/{kind}_divergence", (float)point.Divergence)]);
        return point;
    }

    public override string ToString() =>
        $"validation: {imageCount} images × repeats held out, {Batches.Count} batches × timesteps {string.Join(", ", Timesteps)}, " +
        $"after {(everyEpochs is { } e ? $"every {e} epochs" : "every epoch")}{(everySteps is { } s ? $" and every {s} steps" : "")}, seed {seed}";

    public void Dispose() => csv.Dispose();
}
