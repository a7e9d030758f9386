using NotebookTrainer.Checkpoints;
using NotebookTrainer.Cli;
using NotebookTrainer.Models;
using NotebookTrainer.SafeTensors;
using NotebookTrainer.Training;
using NotebookTrainer.World;
using static NotebookTrainer.Tests.Training.MethodTestSetup;
using static TorchSharp.torch;

namespace NotebookTrainer.Tests.Training;

/// <summary>DreamBooth (train_db.py) and fine-tuning with the text encoder (fine_tune.py): what trains, when, and what is written.</summary>
[Collection(TorchRandom.Collection)]
public sealed class FullModelTrainingTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("ntrain-fullmodel-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void DreamBooth_trains_the_text_encoder_until_stop_text_encoder_training_weights_reg_images_and_resumes_bit_exactly()
    {
        var model = TinyStableDiffusion.Write(Path.Combine(dir, "base"));
        var data = DreamBoothFolders(Path.Combine(dir, "data"), reg: true);
        const string settings = "max_train_steps = 4\nstop_text_encoder_training = 2\nlearning_rate_te = 5e-4\nprior_loss_weight = 0.5\noutput_name = \"db\"";
        TrainingConfig Config(string output) => MethodTestSetup.Config(model, output, data, settings);

        var dataset = TrainingDataset.Build(Config(Path.Combine(dir, "straight")));
        var samples = dataset.BatchesForEpoch(1).SelectMany(b => b.Samples).ToList();
        Assert.Equal(4 * 10, samples.Count(s => !s.IsReg));
        Assert.Equal(4 * 10, samples.Count(s => s.IsReg));   // reg images repeated up to the training count, as kohya does
        Assert.All(samples, s => Assert.Equal(s.IsReg ? 0.5f : 1f, s.LossWeight));

        Dictionary<string, Tensor> unet, text, textAtStop = [];
        using (var models = TrainingModelLoader.Load(Config(Path.Combine(dir, "straight")), CPU, method: TrainingMethod.DreamBooth))
        {
            var unetBefore = Copy(models.Unet);
            var textBefore = Copy(models.TextEncoder);
            var vaeBefore = Copy(models.Vae);
            using var trainer = new Trainer(Config(Path.Combine(dir, "straight")), dataset, models, CPU, method: TrainingMethod.DreamBooth);
            Assert.Equal(["unet", "text_encoder"], trainer.Target.ParameterGroups.Select(g => g.Name));
            Assert.Equal(5e-4, trainer.Target.ParameterGroups[1].LearningRate);
            Assert.Contains("text encoder", trainer.Plan.Trains);
            var result = trainer.Train(new AfterStep(p => { if (p.Step == 2) textAtStop = Copy(models.TextEncoder); }));
            Assert.Equal(4, result.Steps);
            unet = Copy(models.Unet);
            text = Copy(models.TextEncoder);
            Assert.All(unetBefore, kv => Assert.False(Same(kv.Value, unet[kv.Key]), $"U-Net {kv.Key} did not train"));
            Assert.All(textBefore, kv => Assert.False(Same(kv.Value, textAtStop[kv.Key]), $"text encoder {kv.Key} did not train in the first 2 steps"));
            Assert.All(text, kv => Assert.True(Same(kv.Value, textAtStop[kv.Key]), $"text encoder {kv.Key} changed after stop_text_encoder_training"));
            Assert.All(Copy(models.Vae), kv => Assert.True(Same(kv.Value, vaeBefore[kv.Key]), $"VAE {kv.Key} changed"));
            using var written = SafeTensorsFile.Open(result.OutputPath!);
            Assert.Equal("dreambooth", written.Metadata["ntrain.training_method"]);
        }

        // Stopped after the text encoder stopped training: the state carries both models and the resumed run freezes it again.
        var half = Path.Combine(dir, "half");
        string state;
        using (var models = TrainingModelLoader.Load(Config(half), CPU, method: TrainingMethod.DreamBooth))
        using (var trainer = new Trainer(Config(half), dataset, models, CPU, method: TrainingMethod.DreamBooth))
        using (var cancel = new CancellationTokenSource())
        {
            state = trainer.Train(new StepWatcher(cancel, cancelAtStep: 3), cancel.Token).StatePath!;
        }
        using (var models = TrainingModelLoader.Load(Config(half), CPU, method: TrainingMethod.DreamBooth))
        using (var trainer = new Trainer(Config(half), dataset, models, CPU, method: TrainingMethod.DreamBooth))
        {
            trainer.Train(resumeFrom: state);
            foreach (var (key, value) in Copy(models.Unet)) Assert.True(Same(value, unet[key]), $"U-Net {key} differs after resume");
            foreach (var (key, value) in Copy(models.TextEncoder)) Assert.True(Same(value, text[key]), $"text encoder {key} differs after resume");
        }
    }

    /// <summary>
    /// A base file as real ones come: the text encoder without <c>text_model.</c> in its names, schedule buffers, an
    /// int64 position_ids and EMA keys. The fine-tuned checkpoint must have exactly these keys, shapes and names.
    /// </summary>
    [Fact]
    public void The_checkpoint_has_exactly_the_base_files_keys_keeps_its_extra_tensors_and_reloads_as_trained()
    {
        var baseDir = Path.Combine(dir, "base");
        var model = TinyStableDiffusion.Write(baseDir);
        var extras = new Dictionary<string, Tensor>
        {
            ["alphas_cumprod"] = linspace(0.999, 0.01, 1000, ScalarType.Float32),
            ["cond_stage_model.transformer.embeddings.position_ids"] = arange(0, 77, ScalarType.Int64).unsqueeze(0),
            ["model_ema.decay"] = tensor(0.9999f),
            ["model_ema.num_updates"] = tensor(1234, ScalarType.Int32),
        };
        using (var original = SafeTensorsFile.Open(model))
        {
            var tensors = original.Names.ToDictionary(n => n.Replace("cond_stage_model.transformer.text_model.", "cond_stage_model.transformer."), n => original.Load(n));
            foreach (var (name, value) in extras) tensors[name] = value;
            SafeTensorsWriter.Write(model + ".new", tensors, original.Metadata);
        }
        File.Move(model + ".new", model, overwrite: true);

        var data = DreamBoothFolders(Path.Combine(dir, "data"));
        var output = Path.Combine(dir, "out");
        var config = Config(model, output, data, "max_train_steps = 2\ntrain_text_encoder = true\nsave_precision = \"fp16\"\noutput_name = \"tuned\"");
        Dictionary<string, Tensor> unet, text;
        string checkpoint;
        using (var models = TrainingModelLoader.Load(config, CPU, method: TrainingMethod.FineTune))
        using (var trainer = new Trainer(config, TrainingDataset.Build(config), models, CPU, method: TrainingMethod.FineTune))
        {
            checkpoint = trainer.Train().OutputPath!;
            unet = Copy(models.Unet);
            text = Copy(models.TextEncoder);
        }

        using (var input = SafeTensorsFile.Open(model))
        using (var written = SafeTensorsFile.Open(checkpoint))
        {
            Assert.Equal(input.Names.Order(StringComparer.Ordinal), written.Names.Order(StringComparer.Ordinal));
            foreach (var name in input.Names)
            {
                Assert.Equal(input.Entries[name].Shape, written.Entries[name].Shape);
                Assert.Equal(extras.ContainsKey(name) ? input.Entries[name].DType : "F16", written.Entries[name].DType);
            }
            foreach (var name in extras.Keys)
                Assert.True(Same(input.Load(name), written.Load(name)), $"{name} was not kept as the base file has it");
            Assert.Equal("fine_tune", written.Metadata["ntrain.training_method"]);
        }
        using var reloaded = StableDiffusion.Load(checkpoint, dtype: ScalarType.Float32);
        foreach (var (key, value) in reloaded.Unet.state_dict())
            Assert.True(Same(value, unet[key].to(ScalarType.Float16).to(ScalarType.Float32)), $"U-Net {key} differs after reloading");
        foreach (var (key, value) in reloaded.TextEncoder.state_dict())
            Assert.True(Same(value, text[key].to(ScalarType.Float16).to(ScalarType.Float32)), $"text encoder {key} differs after reloading");
    }

    [Fact]
    public void Diffusers_folders_are_saved_per_epoch_pruned_like_files_and_round_trip()
    {
        var model = TinyStableDiffusion.Write(Path.Combine(dir, "base"));
        var data = (Path.Combine(dir, "small"), (string?)null);
        var output = Path.Combine(dir, "out");
        var config = Config(model, output, data,
            "max_train_epochs = 3\nsave_every_n_epochs = 1\nsave_last_n_epochs = 1\nsave_model_as = \"diffusers_safetensors\"\noutput_name = \"tuned\"\ntrain_text_encoder = true");
        var dataset = OneRepeat(Path.Combine(dir, "small"), images: 2, batchSize: 2);   // one step an epoch
        Dictionary<string, Tensor> unet, text;
        TrainingResult result;
        using (var models = TrainingModelLoader.Load(config, CPU, method: TrainingMethod.FineTune))
        using (var trainer = new Trainer(config, dataset, models, CPU, method: TrainingMethod.FineTune))
        {
            result = trainer.Train();
            unet = Copy(models.Unet);
            text = Copy(models.TextEncoder);
            Assert.Equal("diffusers model", trainer.Target.OutputKind);
        }
        Assert.Equal(Path.Combine(output, "tuned"), result.OutputPath);
        Assert.False(Directory.Exists(Path.Combine(output, "tuned-000001")));   // save_last_n_epochs = 1
        Assert.True(File.Exists(Path.Combine(output, "tuned-000002", "unet", "diffusion_pytorch_model.safetensors")));
        foreach (var file in new[] { "model_index.json", "unet/config.json", "text_encoder/model.safetensors", "vae/diffusion_pytorch_model.safetensors", "tokenizer/vocab.json" })
            Assert.True(File.Exists(Path.Combine(result.OutputPath!, file)), $"{file} missing from the diffusers folder");
        Assert.DoesNotContain(Directory.GetDirectories(output), d => Path.GetFileName(d).Contains(".tmp", StringComparison.Ordinal));

        using var reloaded = StableDiffusion.Load(result.OutputPath!);
        foreach (var (key, value) in reloaded.Unet.state_dict()) Assert.True(Same(value, unet[key]), $"U-Net {key} differs after reloading the folder");
        foreach (var (key, value) in reloaded.TextEncoder.state_dict()) Assert.True(Same(value, text[key]), $"text encoder {key} differs after reloading the folder");
    }

    [Fact]
    public void The_dreambooth_command_samples_saves_steps_and_logs_like_lora_training_and_pickles_are_refused()
    {
        var model = TinyStableDiffusion.Write(Path.Combine(dir, "base"));
        var data = DreamBoothFolders(Path.Combine(dir, "data"));
        var output = Path.Combine(dir, "out");
        var prompts = Path.Combine(dir, "prompts.txt");
        File.WriteAllText(prompts, "sks, purple heart --w 64 --h 64 --d 3 --s 2\n");
        var toml = Path.Combine(dir, "db.toml");
        File.WriteAllText(toml, $"""
            pretrained_model_name_or_path = {Json(model)}
            train_data_dir = {Json(data.Train)}
            caption_extension = ".txt"
            resolution = 64
            train_batch_size = 2
            output_dir = {Json(output)}
            output_name = "db"
            max_train_steps = 3
            save_every_n_steps = 1
            save_last_n_steps = 1
            sample_every_n_steps = 2
            sample_prompts = {Json(prompts)}
            cache_latents = true
            """);
        Assert.Equal(0, Ntrain.Run(["dreambooth", "--config", toml]));
        Assert.True(File.Exists(Path.Combine(output, "db.safetensors")));
        Assert.Equal(["db-step00000002.safetensors", "db-step00000003.safetensors"],
            Directory.GetFiles(output, "db-step*").Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Matches(@"^db_000002_00_\d+\.png$", Path.GetFileName(Assert.Single(Directory.GetFiles(Path.Combine(output, "sample"), "*.png"))));
        var log = NotebookTrainer.Analysis.RunLog.Load(Path.Combine(output, "logs", "db", "loss.csv"));
        Assert.Equal([1, 2, 3], log.Entries.Select(e => e.Step));
        Assert.Equal(["lr_unet", "lr_text_encoder"], log.LearningRateColumns);
        Assert.Single(Directory.GetFiles(Path.Combine(output, "logs", "db"), "events.out.tfevents.*"));

        var pickle = Config(model, Path.Combine(dir, "pickle"), data, "save_model_as = \"ckpt\"");
        using var models = TrainingModelLoader.Load(pickle, CPU, method: TrainingMethod.DreamBooth);
        var e = Assert.Throws<TrainingException>(() => new Trainer(pickle, TrainingDataset.Build(pickle), models, CPU, method: TrainingMethod.DreamBooth));
        Assert.Contains("save_model_as = \"ckpt\"", e.Message);
        Assert.Contains("\"safetensors\"", e.Message);
    }
}
