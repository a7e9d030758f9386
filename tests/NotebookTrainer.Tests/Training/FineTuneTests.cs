using NotebookTrainer.Models;
using NotebookTrainer.SafeTensors;
using NotebookTrainer.Training;
using NotebookTrainer.World;
using static TorchSharp.torch;

namespace NotebookTrainer.Tests.Training;

[Collection(TorchRandom.Collection)]
public sealed class FineTuneTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("ntrain-finetune-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    static Dictionary<string, Tensor> Copy(TorchSharp.torch.nn.Module module) =>
        module.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());

    static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    TrainingConfig Config(string model, string output, string extra = "") => TrainingConfig.Parse($"""
        pretrained_model_name_or_path = {System.Text.Json.JsonSerializer.Serialize(model)}
        train_data_dir = "unused: the test passes its DatasetPlan"
        output_dir = {System.Text.Json.JsonSerializer.Serialize(output)}
        output_name = "tuned"
        learning_rate = 1e-3
        max_train_steps = 4
        seed = 7
        cache_latents = true
        save_precision = "float"
        {extra}
        """);

    [Fact]
    public void Fine_tuning_trains_every_unet_weight_and_nothing_else_and_resumes_bit_exactly()
    {
        var model = TinyStableDiffusion.Write(Path.Combine(dir, "base"));
        var data = TinyTrainingSetup.Dataset(Path.Combine(dir, "data"));

        Dictionary<string, Tensor> straight;
        using (var models = TrainingModelLoader.Load(Config(model, Path.Combine(dir, "straight")), method: TrainingMethod.FineTune))
        {
            var unetBefore = Copy(models.Unet);
            var textBefore = Copy(models.TextEncoder);
            var vaeBefore = Copy(models.Vae);
            using var trainer = new Trainer(Config(model, Path.Combine(dir, "straight")), data, models, CPU, method: TrainingMethod.FineTune);
            Assert.Equal(models.Unet.parameters().Sum(p => p.numel()), trainer.Plan.TrainableParameters);
            var result = trainer.Train();
            Assert.Equal(4, result.Steps);
            straight = Copy(models.Unet);
            Assert.All(unetBefore, kv => Assert.False(Same(kv.Value, straight[kv.Key]), $"{kv.Key} did not train"));
            Assert.All(Copy(models.TextEncoder), kv => Assert.True(Same(kv.Value, textBefore[kv.Key]), $"text encoder {kv.Key} changed"));
            Assert.All(Copy(models.Vae), kv => Assert.True(Same(kv.Value, vaeBefore[kv.Key]), $"VAE {kv.Key} changed"));
        }

        var half = Path.Combine(dir, "half");
        string state;
        using (var models = TrainingModelLoader.Load(Config(model, half), method: TrainingMethod.FineTune))
        using (var trainer = new Trainer(Config(model, half), data, models, CPU, method: TrainingMethod.FineTune))
        using (var cancel = new CancellationTokenSource())
        {
            var result = trainer.Train(new StepWatcher(cancel, cancelAtStep: 2), cancel.Token);
            Assert.True(result.Cancelled);
            state = result.StatePath!;
            Assert.True(File.Exists(Path.Combine(state, "unet.safetensors")));
        }
        using (var models = TrainingModelLoader.Load(Config(model, half), method: TrainingMethod.FineTune))
        using (var trainer = new Trainer(Config(model, half), data, models, CPU, method: TrainingMethod.FineTune))
        {
            trainer.Train(resumeFrom: state);
            foreach (var (key, value) in Copy(models.Unet))
                Assert.True(Same(value, straight[key]), $"{key} differs after resume");
        }
    }

    [Fact]
    public void The_checkpoint_has_the_base_models_keys_and_shapes_and_loads_back_as_trained()
    {
        var model = TinyStableDiffusion.Write(Path.Combine(dir, "base"));
        var data = TinyTrainingSetup.Dataset(Path.Combine(dir, "data"));
        var output = Path.Combine(dir, "out");
        Dictionary<string, Tensor> trained;
        string checkpoint;
        using (var models = TrainingModelLoader.Load(Config(model, output), method: TrainingMethod.FineTune))
        using (var trainer = new Trainer(Config(model, output), data, models, CPU, method: TrainingMethod.FineTune))
        {
            checkpoint = trainer.Train().OutputPath!;
            trained = Copy(models.Unet);
        }

        Assert.Equal(Path.Combine(output, "tuned.safetensors"), checkpoint);
        using (var input = SafeTensorsFile.Open(model))
        using (var written = SafeTensorsFile.Open(checkpoint))
        {
            Assert.Equal(input.Names.Order(StringComparer.Ordinal), written.Names.Order(StringComparer.Ordinal));
            Assert.Equal(input.Header.Entries.ToDictionary(e => e.Name, e => string.Join(",", e.Shape)), written.Header.Entries.ToDictionary(e => e.Name, e => string.Join(",", e.Shape)));
            Assert.Equal("fine_tune", written.Metadata["ntrain.training_method"]);
        }
        using var reloaded = StableDiffusion.Load(checkpoint);
        foreach (var (key, value) in reloaded.Unet.state_dict())
            Assert.True(Same(value, trained[key]), $"{key} differs after reloading");
    }
}
