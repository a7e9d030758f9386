using NotebookTrainer.Networks;
using NotebookTrainer.SafeTensors;
using NotebookTrainer.Training;
using static TorchSharp.torch;

namespace NotebookTrainer.Tests.Training;

[Collection(TorchRandom.Collection)]
public sealed class TrainerTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("ntrain-trainer-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    static Dictionary<string, Tensor> Weights(LoraNetwork network) =>
        network.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());

    [Fact]
    public void ResumeFromStateContinuesBitExactly()
    {
        var data = TinyTrainingSetup.Dataset(Path.Combine(dir, "data"));
        const string settings = "max_train_steps = 6\nnetwork_dropout = 0.1\nnoise_offset = 0.05\nmin_snr_gamma = 5";

        Dictionary<string, Tensor> straight;
        using (var models = TinyTrainingSetup.Models())
        using (var trainer = new Trainer(TinyTrainingSetup.Config(Path.Combine(dir, "straight"), settings), data, models, CPU))
        {
            var result = trainer.Train();
            Assert.Equal(6, result.Steps);
            Assert.False(result.Cancelled);
            straight = Weights(trainer.Network!);
        }

        string state;
        var half = Path.Combine(dir, "half");
        using (var models = TinyTrainingSetup.Models())
        using (var trainer = new Trainer(TinyTrainingSetup.Config(half, settings), data, models, CPU))
        using (var cancel = new CancellationTokenSource())
        {
            var result = trainer.Train(new StepWatcher(cancel, cancelAtStep: 3), cancel.Token);
            Assert.True(result.Cancelled);
            Assert.Equal(3, result.Steps);
            Assert.False(File.Exists(Path.Combine(half, "tiny.safetensors")));
            state = result.StatePath!;
            Assert.Equal(3, TrainingState.ReadPosition(state).Step);
        }

        // A restart: new models, new network, new optimizer, only the state folder carries over.
        using (var models = TinyTrainingSetup.Models())
        using (var trainer = new Trainer(TinyTrainingSetup.Config(half, settings), data, models, CPU))
        {
            var watcher = new StepWatcher();
            var result = trainer.Train(watcher, resumeFrom: state);
            Assert.Equal(6, result.Steps);
            Assert.Equal([4, 5, 6], watcher.Reports.Select(r => r.Step));
            var resumed = Weights(trainer.Network!);
            Assert.Equal(straight.Keys.Order(), resumed.Keys.Order());
            foreach (var (key, value) in straight)
                Assert.True(value.eq(resumed[key]).all().item<bool>(), $"{key} differs after resume");
            Assert.Contains(straight.Values, t => t.abs().sum().item<float>() > 0);
        }
    }

    // On a CPU without bf16 units the frozen bf16 layers compute in fp32 (Float32Compute), with their own backward for
    // the input gradient, also when gradient checkpointing re-runs them; the LoRA must train as it does in fp32.
    [Fact]
    public void Bf16FrozenWeightsWithCheckpointingTrainLikeFp32()
    {
        var data = TinyTrainingSetup.Dataset(Path.Combine(dir, "data"));
        (Dictionary<string, Tensor> Weights, List<float> Losses) Train(string name, string settings)
        {
            using var models = TinyTrainingSetup.Models();
            using var trainer = new Trainer(TinyTrainingSetup.Config(Path.Combine(dir, name), "max_train_steps = 3\n" + settings), data, models, CPU);
            var watcher = new StepWatcher();
            trainer.Train(watcher);
            return (Weights(trainer.Network!), watcher.Reports.Select(r => r.Loss).ToList());
        }
        var fp32 = Train("fp32", "");
        var bf16 = Train("bf16", "mixed_precision = \"bf16\"\ngradient_checkpointing = true");
        for (var i = 0; i < 3; i++)
            Assert.True(Math.Abs(bf16.Losses[i] - fp32.Losses[i]) <= 0.05 * fp32.Losses[i], $"step {i + 1}: loss {bf16.Losses[i]} in bf16, {fp32.Losses[i]} in fp32");
        // AdamW's first steps are nearly sign(gradient) · lr, so compare the direction the LoRA moved in, not each value.
        var keys = fp32.Weights.Keys.Where(k => k.EndsWith("lora_up.weight")).ToList();
        using var a = cat(keys.Select(k => fp32.Weights[k].flatten()).ToList());
        using var b = cat(keys.Select(k => bf16.Weights[k].flatten()).ToList());
        var cosine = (a * b).sum().item<float>() / (a.norm().item<float>() * b.norm().item<float>());
        Assert.True(cosine > 0.9f, $"the bf16 run moved the LoRA elsewhere (cosine {cosine})");
    }

    [Fact]
    public void FailureBetweenStateWriteAndRenameKeepsThePreviousState()
    {
        var data = TinyTrainingSetup.Dataset(Path.Combine(dir, "data"), images: 2, batchSize: 4);
        var output = Path.Combine(dir, "out");
        using var models = TinyTrainingSetup.Models();
        using var trainer = new Trainer(TinyTrainingSetup.Config(output, "max_train_epochs = 3\nsave_every_n_epochs = 1\nsave_state = true"), data, models, CPU);
        var commits = 0;
        trainer.BeforeCommit = temp =>
        {
            Assert.True(File.Exists(Path.Combine(temp, "network.safetensors")));
            if (++commits == 2) throw new IOException("disk full (injected)");
        };
        var error = Assert.Throws<IOException>(() => trainer.Train());
        Assert.Contains("injected", error.Message);

        var first = Path.Combine(output, "tiny-000001-state");
        Assert.Equal(1, TrainingState.ReadPosition(first).Epoch);
        Assert.Equal(trainer.Plan.StepsPerEpoch, TrainingState.ReadPosition(first).Step);
        using (var st = SafeTensorsFile.Open(Path.Combine(first, "network.safetensors")))
            Assert.Equal(trainer.Network!.StateDict().Count, st.Names.Count());
        Assert.False(Directory.Exists(Path.Combine(output, "tiny-000002-state")));
        Assert.Empty(Directory.GetDirectories(output, ".*tmp"));
        // The epoch-2 LoRA was written before the failing state save, atomically, and loads.
        var (loaded, metadata) = LoraFile.Load(Path.Combine(output, "tiny-000002.safetensors"), models.Unet, models.TextEncoder);
        loaded.Dispose();
        Assert.Equal("2", metadata["ss_epoch"]);
    }

    [Fact]
    public void WritesKohyaFilesLogsAndRunRecord()
    {
        var data = TinyTrainingSetup.Dataset(Path.Combine(dir, "data"), images: 2, batchSize: 2);
        var output = Path.Combine(dir, "out");
        using var models = TinyTrainingSetup.Models();
        using var trainer = new Trainer(TinyTrainingSetup.Config(output, "max_train_epochs = 3\nsave_every_n_epochs = 1\nsave_last_n_epochs = 1\nsave_precision = \"fp16\"\nlr_scheduler = \"cosine\"\nlr_warmup_steps = 0.2\nloss_type = \"huber\"\nzero_terminal_snr = true"), data, models, CPU);
        Assert.Equal(10, trainer.Plan.StepsPerEpoch); // 2 images × 10 repeats / batch 2
        Assert.Equal(30, trainer.Plan.TotalSteps);
        Assert.Equal(6, trainer.Plan.WarmupSteps);
        Assert.Contains("steps per epoch", trainer.Plan.ToHtml());
        var watcher = new StepWatcher();
        var result = trainer.Train(watcher);

        Assert.Equal(30, watcher.Reports.Count);
        Assert.Equal(0.0, watcher.Reports[0].LearningRate);
        Assert.Equal(1e-3 * 3 / 6, watcher.Reports[3].LearningRate, 12);
        Assert.False(File.Exists(Path.Combine(output, "tiny-000001.safetensors"))); // keep last 1
        Assert.True(File.Exists(Path.Combine(output, "tiny-000002.safetensors")));
        Assert.Equal(Path.Combine(output, "tiny.safetensors"), result.OutputPath);
        using (var file = SafeTensorsFile.Open(result.OutputPath!))
        {
            Assert.Equal("F16", file.Entries.Values.First().DType);
            Assert.Equal("30", file.Metadata["ss_steps"]);
            Assert.Equal("huber", file.Metadata["ss_loss_type"]);
            Assert.Equal("snr", file.Metadata["ss_huber_schedule"]);
            Assert.Equal("True", file.Metadata["ss_zero_terminal_snr"]);
            Assert.Equal("sd_v1", file.Metadata["ss_base_model_version"]);
            Assert.Equal("stable-diffusion-v1/lora", file.Metadata["modelspec.architecture"]);
            Assert.Contains("\"n_repeats\":10", file.Metadata["ss_dataset_dirs"]);
            Assert.Contains("\"sks\":2", file.Metadata["ss_tag_frequency"]);
            // kohya's per-dataset copies, which its metadata readers take when a dataset config was used
            var datasetMeta = System.Text.Json.Nodes.JsonNode.Parse(file.Metadata["ss_datasets"])![0]!;
            Assert.Equal(20, (int)datasetMeta["num_train_images"]!);
            var folderTags = datasetMeta["tag_frequency"]!.AsObject().Single().Value!;
            Assert.Equal(2, (int)folderTags["sks"]!);
            Assert.NotEmpty(datasetMeta["bucket_info"]!["buckets"]!.AsObject());
            Assert.Equal(SafeTensorsFile.DataSha256(result.OutputPath!), file.Metadata["sshs_model_hash"]);
        }
        var logs = Path.Combine(output, "logs", "tiny");
        var csv = File.ReadAllLines(Path.Combine(logs, "loss.csv"));
        Assert.Equal(31, csv.Length);
        Assert.StartsWith("step,epoch,loss,smoothed_loss,lr_text_encoder,lr_unet", csv[0]);
        Assert.Single(Directory.GetFiles(logs, "events.out.tfevents.*"));
        Assert.Contains("network_dim = 4", File.ReadAllText(Path.Combine(output, "run", "training.toml")));
        Assert.True(File.Exists(Path.Combine(output, "run", "dataset.toml")));
    }
}
