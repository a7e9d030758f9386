using NotebookTrainer.Training;
using static TorchSharp.torch;

namespace NotebookTrainer.Tests.Training;

[Collection(TorchRandom.Collection)]
public sealed class TrainingSamplesTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("ntrain-samples-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void SampleEveryNEpochsWritesKohyaNamedImagesWithoutChangingTraining()
    {
        var prompts = Path.Combine(dir, "prompts.txt");
        File.WriteAllText(prompts, "# one prompt\nsks, red circle --w 64 --h 64 --d 3 --s 2 --ss euler\n");
        var data = TinyTrainingSetup.Dataset(Path.Combine(dir, "data"));

        List<float> LossesWith(string output, string extra)
        {
            var config = TinyTrainingSetup.Config(output, "max_train_steps = 2\n" + extra);
            using var models = TrainingModelLoader.Load(config, CPU);
            using var trainer = new Trainer(config, data, models, CPU);
            return trainer.Train().Losses.Select(l => l.Loss).ToList();
        }

        var plain = LossesWith(Path.Combine(dir, "plain"), "");
        var sampled = LossesWith(Path.Combine(dir, "sampled"), $"sample_every_n_epochs = 1\nsample_prompts = {System.Text.Json.JsonSerializer.Serialize(prompts)}");

        var images = Directory.GetFiles(Path.Combine(dir, "sampled", "sample"), "*.png");
        Assert.Single(images);
        Assert.Matches(@"^tiny_000001_00_\d+\.png$", Path.GetFileName(images[0]));
        Assert.False(Directory.Exists(Path.Combine(dir, "plain", "sample")));
        Assert.Equal(plain, sampled);
    }
}
