using NotebookTrainer.Analysis;
using NotebookTrainer.Datasets;
using NotebookTrainer.Models;
using NotebookTrainer.Tagging;
using NotebookTrainer.Training;
using NotebookTrainer.World;
using Xunit.Abstractions;

namespace NotebookTrainer.Tests.World;

/// <summary>
/// The trainer is correct when its samples show what it was taught: a short seeded LoRA run on the shipped world model
/// teaches the sample set's purple hearts, which the base never saw, and the judge sees them appear. A wrong timestep,
/// noise target or schedule still lowers the loss but fails here.
/// </summary>
public sealed class LearningRegressionTests(ITestOutputHelper output) : IDisposable
{
    readonly string dir = Path.Combine(Path.GetTempPath(), $"ntrain-learning-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public void ShortLoraRunTeachesTheHeldOutConcept()
    {
        var modelPath = WorldModel.Install(Path.Combine(dir, "model"));
        SampleDataset.Generate(Path.Combine(dir, "data"), seed: 42);
        var config = TrainingConfig.Load(Path.Combine(AppContext.BaseDirectory, "data-templates", "training.toml"));
        config.PretrainedModelNameOrPath = modelPath;
        config.DatasetConfig = null;
        config.TrainDataDir = Path.Combine(dir, "data");
        config.Resolution = (WorldModel.Resolution, WorldModel.Resolution);
        config.DatasetArguments = config.DatasetArguments with
        {
            CaptionExtension = ".txt", EnableBucket = true,
            MinBucketReso = WorldModel.Resolution, MaxBucketReso = 2 * WorldModel.Resolution, BucketResoSteps = WorldModel.Resolution,
        };
        config.OutputDir = Path.Combine(dir, "output");
        config.LoggingDir = null;
        config.MaxTrainEpochs = 4;
        config.TrainBatchSize = 4;
        config.NetworkDim = 16;   // 05's defaults: LoCon, dim 16 = alpha, the method's learning rate, v_pred_like_loss
        config.NetworkAlpha = 16;
        MethodChoice.Apply("locon", config);
        config.LearningRate = MethodChoice.LearningRate("locon");
        config.UnetLr = config.LearningRate;
        config.TextEncoderLr = config.LearningRate / 2;
        config.MinSnrGamma = null;
        config.VPredLikeLoss = 1.0;
        config.SaveEveryNEpochs = null;
        config.SaveState = false;

        TrainingResult result;
        using (var models = TrainingModelLoader.Load(config))
        using (var trainer = new Trainer(config, TrainingDataset.Build(config), models))
            result = trainer.Train();

        using var model = StableDiffusion.Load(modelPath);
        using var judge = WdTaggerModel.Load(WorldModel.TaggerDirectory, preferGpu: false);
        var learning = ConceptLearning.Measure(model, modelPath, judge, [new TrainedOutput(null, result.OutputPath!, TrainedOutputKind.Lora)], Path.Combine(dir, "judged"),
            options: new AccuracyOptions { Seeds = 4 });

        output.WriteLine(learning.ToString());
        Assert.True(learning.BaseAccuracy <= 0.10, $"the base already draws the concept: {learning}");
        Assert.True(learning.FinalAccuracy - learning.BaseAccuracy >= 0.40, $"the LoRA did not teach the concept:\n{learning.ToJson()}");
    }
}
