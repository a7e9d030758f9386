using NotebookTrainer.Datasets;
using NotebookTrainer.Datasets.Config;
using NotebookTrainer.ModelConfigs;
using NotebookTrainer.Models.Vae;
using NotebookTrainer.Training;
using NotebookTrainer.World;
using static TorchSharp.torch;

namespace NotebookTrainer.Tests.Training;

[Collection(TorchRandom.Collection)]
public sealed class VaeTrainerTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("ntrain-vae-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    DatasetPlan Data()
    {
        SampleDataset.Generate(Path.Combine(dir, "data"), seed: 3, count: 8);
        return DatasetPlan.Build(DatasetConfig.FromFolders(Path.Combine(dir, "data"), null,
            new DatasetArguments { Resolution = 64, BatchSize = 4, CaptionExtension = ".txt", FlipAug = true }));
    }

    static AutoencoderKL Vae()
    {
        manual_seed(5);
        return new AutoencoderKL(AutoencoderKLConfig.Tiny);
    }

    VaeTrainingOptions Options(string name, int steps) => new() { OutputDir = Path.Combine(dir, name), MaxSteps = steps, LearningRate = 1e-3, SaveEveryNSteps = 100 };

    [Fact]
    public void Reconstruction_improves_and_a_cancelled_run_resumes_bit_exactly()
    {
        var data = Data();
        using var straight = Vae();
        var result = new VaeTrainer(straight, data, Options("straight", 40), CPU).Train();
        Assert.Equal(40, result.Steps);
        Assert.True(result.Losses.TakeLast(5).Average(l => l.Reconstruction) < 0.7 * result.Losses.Take(5).Average(l => l.Reconstruction),
            $"L1+L2 went from {result.Losses[0].Reconstruction} to {result.Losses[^1].Reconstruction}");
        Assert.Equal(41, File.ReadAllLines(Path.Combine(dir, "straight", "vae-loss.csv")).Length);

        var stoppedAt = 0;
        using (var first = Vae())
        using (var cancel = new CancellationTokenSource())
        {
            var stopped = new VaeTrainer(first, data, Options("half", 40), CPU)
                .Train(new SynchronousProgress(u => { if (u.Done >= 15) cancel.Cancel(); }), cancel.Token);
            Assert.True(stopped.Cancelled);
            Assert.InRange(stopped.Steps, 15, 39);
            stoppedAt = stopped.Steps;
        }
        using var resumed = Vae();
        var rest = new VaeTrainer(resumed, data, Options("half", 40), CPU).Train();
        Assert.Equal(40, rest.Steps);
        Assert.Equal(Enumerable.Range(1, 40), rest.Losses.Select(l => l.Step));   // the whole run's log, the stopped part included
        Assert.Equal(41, File.ReadAllLines(Path.Combine(dir, "half", "vae-loss.csv")).Length);
        Assert.Equal(result.Losses[^1].Reconstruction, rest.Losses[^1].Reconstruction);
        foreach (var (name, value) in straight.state_dict())
            Assert.True(value.eq(resumed.state_dict()[name]).all().item<bool>(), $"{name} differs after resume");
    }

    sealed class SynchronousProgress(Action<Progress.ProgressUpdate> report) : IProgress<Progress.ProgressUpdate>
    {
        public void Report(Progress.ProgressUpdate value) => report(value);
    }
}
