using System.Text;
using NotebookTrainer.Analysis;
using NotebookTrainer.Datasets;
using NotebookTrainer.Training;
using NotebookTrainer.World;
using static NotebookTrainer.Tests.Training.MethodTestSetup;
using static TorchSharp.torch;

namespace NotebookTrainer.Tests.Training;

/// <summary>validation_split and the validation loss, as sd-scripts' train_network.py defines them.</summary>
[Collection(TorchRandom.Collection)]
public sealed class ValidationLossTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("ntrain-validation-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    // Expected orders printed by CPython 3: random.seed(seed); x = list(range(n)); random.shuffle(x).
    [Theory]
    [InlineData(0, new[] { 7, 8, 1, 5, 3, 4, 2, 0, 9, 6 })]
    [InlineData(42, new[] { 7, 3, 2, 8, 5, 6, 9, 4, 0, 1 })]
    [InlineData(1234, new[] { 2, 8, 3, 5, 6, 4, 9, 0, 1, 7 })]
    [InlineData(1099511627783, new[] { 0, 5, 2, 3, 6, 1, 8, 4, 7, 9 })]
    [InlineData(7, new[] { 5, 18, 21, 15, 7, 14, 22, 20, 6, 19, 13, 16, 8, 0, 9, 11, 3, 17, 2, 1, 12, 4, 10 })]
    public void Python_random_shuffles_exactly_like_CPython(long seed, int[] expected)
    {
        var items = Enumerable.Range(0, expected.Length).ToList();
        new PythonRandom(seed).Shuffle(items);
        Assert.Equal(expected, items);
    }

    [Fact]
    public void Python_random_draws_CPythons_32_bit_words()
    {
        var random = new PythonRandom(42);   // CPython: random.seed(42); [random.getrandbits(32) for _ in range(3)]
        Assert.Equal([2746317213u, 478163327u, 107420369u], new[] { random.NextUInt32(), random.NextUInt32(), random.NextUInt32() });
    }

    DatasetPlan Split(int images, double split, int seed)
    {
        var root = Path.Combine(dir, $"split-{images}-{split}-{seed}");
        WorldDataset.Write(Path.Combine(root, "train", "2_sks heart"), SampleDataset.Scenes, images, seed: 1, side: 64, activationTag: "sks");
        WorldDataset.Write(Path.Combine(root, "reg", "1_heart"), SceneOptions.Pretraining, 3, seed: 2, side: 64);
        return DatasetPlan.Build(NotebookTrainer.Datasets.Config.DatasetConfig.FromFolders(Path.Combine(root, "train"), Path.Combine(root, "reg"),
            new NotebookTrainer.Datasets.Config.DatasetArguments { Resolution = 64, CaptionExtension = ".txt", ValidationSplit = split, ValidationSeed = seed }));
    }

    static IEnumerable<int> Numbers(IEnumerable<PlannedImage> images) => images.Select(i => int.Parse(Path.GetFileNameWithoutExtension(i.Path)));

    [Fact]
    public void The_split_is_sd_scripts_per_subset_with_reg_images_all_in_training()
    {
        // CPython: random.seed(7); shuffle(range(10)) → [8, 3, 1, 4, 7, 0, 9, 6, 2, 5]; train [:ceil(10·0.7)], validation [10 − round(3.0):].
        var plan = Split(10, 0.3, 7);
        Assert.Equal([8, 3, 1, 4, 7, 0, 9], Numbers(plan.Images.Where(i => !i.IsReg)));
        Assert.Equal(3, plan.Images.Count(i => i.IsReg));
        Assert.Equal([6, 2, 5], Numbers(plan.Validation!.Images));
        Assert.All(plan.Validation.Images, i => Assert.Equal(2, i.Repeats));   // the subset's repeats, as sd-scripts' validation dataset has them
        Assert.Equal(6, plan.Validation.NumTrainImages);
        Assert.Equal(0, plan.Validation.NumRegImages);

        // round(3.5) = 4 (ties to even) but ceil(6.5) = 7: image 9 lands in both halves, exactly as in sd-scripts.
        plan = Split(10, 0.35, 7);
        Assert.Equal([8, 3, 1, 4, 7, 0, 9], Numbers(plan.Images.Where(i => !i.IsReg)));
        Assert.Equal([9, 6, 2, 5], Numbers(plan.Validation!.Images));

        plan = Split(4, 0.1, 7);   // round(0.4) = 0: nothing held out
        Assert.Null(plan.Validation);
        Assert.Contains(plan.Problems, p => p.Message.Contains("validation_split leaves no usable validation images"));
    }

    [Fact]
    public void A_pass_sees_the_same_batches_noise_and_timesteps_every_time()
    {
        var plan = Split(10, 0.3, 7);
        var config = TrainingConfig.Parse("pretrained_model_name_or_path = \"x\"\ntrain_data_dir = \"y\"\nmin_timestep = 100\nmax_timestep = 900\nmax_validation_steps = 2\n");
        using var validation = new ValidationLoss(plan.Validation!, config, 1000, Path.Combine(dir, "logs"), append: false, CPU);
        Assert.Equal([260, 420, 580, 740], validation.Timesteps);   // numpy.linspace(100, 900, 6, dtype=int)[1:-1]
        Assert.Equal([200, 400, 600, 800], ValidationLoss.FixedTimesteps(0, 1000));
        Assert.Equal(2, validation.Batches.Count);
        Assert.All(validation.Batches.SelectMany(b => b.Samples), s => Assert.False(s.FlipAllowed));

        var seen = new List<(string, long)>();
        Tensor Loss(TrainingBatch batch, Random random, Generator noise, long timestep)
        {
            seen.Add((string.Join("|", batch.Samples.Select(s => s.ImagePath)), timestep));
            return randn([3], generator: noise).abs().sum() + random.NextDouble() + timestep / 1000.0;
        }
        var first = validation.Run("epoch", 3, 1, 0.5, Loss);
        var second = validation.Run("epoch", 6, 2, 0.25, Loss);
        Assert.Equal(first.Loss, second.Loss);
        Assert.Equal(first.PerTimestep, second.PerTimestep);
        Assert.Equal(seen[..8], seen[8..]);
        Assert.Equal(first.Loss - 0.25, second.Divergence, 12);
        Assert.Equal(first.PerTimestep.Average(p => p.Loss), first.Loss, 12);
    }

    string LoraConfig(string name, string data) => $"""
        pretrained_model_name_or_path = "embedded:tiny"
        train_data_dir = {Json(data)}
        caption_extension = ".txt"
        resolution = 64
        train_batch_size = 2
        output_dir = {Json(Path.Combine(dir, name))}
        output_name = "v"
        network_dim = 4
        learning_rate = 1e-3
        seed = 7
        cache_latents = true
        max_train_epochs = 2
        validation_split = 0.25
        validation_seed = 3
        validate_every_n_steps = 2
        """;

    [Fact]
    public void Validation_loss_is_identical_across_two_runs_and_a_resume_and_is_logged_beside_the_training_loss()
    {
        var data = Path.Combine(dir, "data");
        WorldDataset.Write(Path.Combine(data, "1_sks heart"), SampleDataset.Scenes, 8, seed: 4, side: 64, activationTag: "sks");
        TrainingResult Run(string name, IProgress<TrainingProgress>? progress = null, CancellationToken cancel = default, string? resume = null)
        {
            var config = TrainingConfig.Parse(LoraConfig(name, data));
            var dataset = TrainingDataset.Build(config);
            Assert.Equal(6, dataset.NumTrainImages);   // CPython: seed 3, 8 images → validation [4, 3]
            Assert.Equal([3, 4], dataset.Validation!.Images.Select(i => int.Parse(Path.GetFileNameWithoutExtension(i.Path))).Order());
            using var models = TinyTrainingSetup.Models();
            using var trainer = new Trainer(config, dataset, models, CPU);
            return trainer.Train(progress, cancel, resume);
        }

        var first = Run("a");
        var second = Run("b");
        // 3 steps an epoch: passes after steps 2, 4 and 6 and at the ends of epochs 1 and 2.
        Assert.Equal([("step", 2), ("epoch", 3), ("step", 4), ("step", 6), ("epoch", 6)], first.Validation!.Select(v => (v.Kind, v.Step)));
        var csvA = File.ReadAllText(Path.Combine(dir, "a", "logs", "v", RunFolder.ValidationLogFile));
        Assert.Equal(csvA, File.ReadAllText(Path.Combine(dir, "b", "logs", "v", RunFolder.ValidationLogFile)));
        Assert.NotEqual(first.Validation![0].Loss, first.Validation[^1].Loss);   // the LoRA trained in between

        string state;
        using (var cancel = new CancellationTokenSource())
            state = Run("c", new StepWatcher(cancel, cancelAtStep: 4), cancel.Token).StatePath!;
        Run("c", resume: state);
        Assert.Equal(csvA, File.ReadAllText(Path.Combine(dir, "c", "logs", "v", RunFolder.ValidationLogFile)));

        var log = RunLog.Load(Path.Combine(dir, "a", "logs", "v", RunFolder.LossLogFile));
        Assert.Equal(5, log.Validation.Count);
        Assert.Equal([1, 2], log.ValidationCurve().Select(v => v.Epoch));
        Assert.Equal([200, 400, 600, 800], log.Validation[0].PerTimestep.Keys.Order());
        var best = log.BestEpoch()!;
        Assert.Equal(log.ValidationCurve().Min(v => v.Loss), best.Loss);
        Assert.Equal(first.Validation.Where(v => v.Kind == "epoch").Select(v => v.Loss), log.ValidationCurve().Select(v => v.Loss));
        Assert.Contains("lowest validation loss: epoch", log.ToHtml());
        Assert.Contains("validation (epoch end)", log.LossChart().ToHtml());
        Assert.Contains($"best: epoch {best.Epoch}", log.LossChart().ToHtml());
        var events = Encoding.Latin1.GetString(File.ReadAllBytes(Directory.GetFiles(Path.Combine(dir, "a", "logs", "v"), "events.out.tfevents.*").Single()));
        Assert.Contains("loss/validation/epoch_average", events);
        Assert.Contains("loss/validation/step_divergence", events);
    }
}
