using NotebookTrainer.Analysis;
using NotebookTrainer.Networks;
using NotebookTrainer.SafeTensors;
using NotebookTrainer.Tests.SafeTensors;
using NotebookTrainer.Tests.Sampling;
using NotebookTrainer.Training;

namespace NotebookTrainer.Tests.Analysis;

public class TrainingRunTests
{
    [Fact]
    public void FindsTheNewestRunWithItsLoraFilesLogAndSamples()
    {
        using var tiny = new TinyPipeline();
        using var dir = new TempDir();
        using var network = LoraNetwork.Create(tiny.Unet, null, new NetworkOptions { Dim = 2 });
        var old = Path.Combine(dir.Path, "old");
        var run = Path.Combine(dir.Path, "train", "mine");
        Directory.CreateDirectory(old);
        Directory.CreateDirectory(Path.Combine(run, "logs", "mine"));
        Directory.CreateDirectory(Path.Combine(run, "sample"));
        SafeTensorsWriter.Write(Path.Combine(old, "x.safetensors"), network.StateDict());
        File.SetLastWriteTimeUtc(Path.Combine(old, "x.safetensors"), DateTime.UtcNow.AddHours(-1));
        foreach (var name in new[] { "mine-000002.safetensors", "mine.safetensors", "mine-000001.safetensors" })
            SafeTensorsWriter.Write(Path.Combine(run, name), network.StateDict());
        File.WriteAllText(Path.Combine(run, "not-a-lora.safetensors"), "garbage");
        File.WriteAllLines(Path.Combine(run, "logs", "mine", RunFolder.LossLogFile), ["step,epoch,loss", "1,1,0.1"]);

        var found = TrainingRun.FindLatest(dir.Path);
        Assert.Equal(run, found.Directory);
        Assert.Equal([1, 2, null], found.LoraFiles.Select(f => f.Epoch));
        Assert.EndsWith("mine.safetensors", found.FinalLora);
        Assert.EndsWith(RunFolder.LossLogFile, found.LogPath);
        Assert.NotNull(found.SampleDir);
        Assert.Throws<FileNotFoundException>(() => TrainingRun.FindLatest(Path.Combine(run, "sample")));

        // 05-train's layout: LoRA files in train/output, logging_dir train/logs/<output_name>.
        var output = Path.Combine(dir.Path, "train2", "output");
        Directory.CreateDirectory(Path.Combine(dir.Path, "train2", "logs", "sample_lora"));
        Directory.CreateDirectory(output);
        File.WriteAllLines(Path.Combine(dir.Path, "train2", "logs", "sample_lora", RunFolder.LossLogFile), ["step,epoch,loss", "1,1,0.1"]);
        SafeTensorsWriter.Write(Path.Combine(output, "sample_lora-000001.safetensors"), network.StateDict());
        SafeTensorsWriter.Write(Path.Combine(output, "sample_lora.safetensors"), network.StateDict());
        var separate = TrainingRun.FindLatest(dir.Path);
        Assert.Equal(output, separate.Directory);
        Assert.Equal(Path.Combine(dir.Path, "train2", "logs", "sample_lora", RunFolder.LossLogFile), separate.LogPath);
    }

    /// <summary>05 run twice with two methods into one output_dir: 06 reads the run the folder's record names, not both.</summary>
    [Fact]
    public void An_output_folder_with_two_runs_gives_the_recorded_one_else_the_newest()
    {
        using var tiny = new TinyPipeline();
        using var dir = new TempDir();
        using var network = LoraNetwork.Create(tiny.Unet, null, new NetworkOptions { Dim = 2 });
        foreach (var name in new[] { "sample_locon-000001", "sample_locon", "sample_lora-000001", "sample_lora" })
            SafeTensorsWriter.Write(Path.Combine(dir.Path, name + ".safetensors"), network.StateDict());
        foreach (var name in new[] { "sample_locon-000001", "sample_locon" })
            File.SetLastWriteTimeUtc(Path.Combine(dir.Path, name + ".safetensors"), DateTime.UtcNow.AddHours(1));

        var newest = TrainingRun.Open(dir.Path);
        Assert.Equal("sample_locon", newest.OutputName);
        Assert.Equal(2, newest.Outputs.Count);

        var recorded = NotebookTrainer.Training.TrainingConfig.Parse("pretrained_model_name_or_path = \"x\"\ntrain_data_dir = \"d\"\noutput_name = \"sample_lora\"\n");
        Directory.CreateDirectory(RunFolder.RecordDirOf(dir.Path));
        File.WriteAllText(RunFolder.RecordedConfigOf(dir.Path), recorded.ToToml());
        var run = TrainingRun.Open(dir.Path);
        Assert.Equal("sample_lora", run.OutputName);
        Assert.Equal([1, null], run.Outputs.Select(o => o.Epoch));
        Assert.All(run.Outputs, o => Assert.StartsWith("sample_lora", Path.GetFileName(o.Path)));
    }

    /// <summary>Full-model and Textual Inversion runs: checkpoints (files this trainer wrote, or diffusers folders in a run folder) and embeddings.</summary>
    [Fact]
    public void Checkpoints_diffusers_folders_and_embeddings_are_a_runs_outputs_and_step_saves_and_base_models_are_not()
    {
        using var dir = new TempDir();
        var tensor = TorchSharp.torch.zeros(2, 4);
        var run = Path.Combine(dir.Path, "db");
        Directory.CreateDirectory(run);
        var trained = new Dictionary<string, string> { [TrainingRun.TrainedCheckpointKey] = "dreambooth" };
        SafeTensorsWriter.Write(Path.Combine(run, "db-000001.safetensors"), new Dictionary<string, TorchSharp.torch.Tensor> { ["model.diffusion_model.out.2.bias"] = tensor }, trained);
        SafeTensorsWriter.Write(Path.Combine(run, "db.safetensors"), new Dictionary<string, TorchSharp.torch.Tensor> { ["model.diffusion_model.out.2.bias"] = tensor }, trained);
        SafeTensorsWriter.Write(Path.Combine(run, "db-step00000004.safetensors"), new Dictionary<string, TorchSharp.torch.Tensor> { ["model.diffusion_model.out.2.bias"] = tensor }, trained);
        SafeTensorsWriter.Write(Path.Combine(run, "base.safetensors"), new Dictionary<string, TorchSharp.torch.Tensor> { ["model.diffusion_model.out.2.bias"] = tensor });
        var found = TrainingRun.FindLatest(dir.Path);
        Assert.Equal(run, found.Directory);
        Assert.Equal(TrainedOutputKind.Checkpoint, found.Kind);
        Assert.Equal([(1, "db-000001.safetensors"), ((int?)null, "db.safetensors")], found.Outputs.Select(o => (o.Epoch, Path.GetFileName(o.Path))));
        Assert.Equal("db.safetensors", Path.GetFileName(found.FinalOutput!.Path));
        Assert.Empty(found.LoraFiles);

        var ti = Path.Combine(dir.Path, "ti");
        Directory.CreateDirectory(ti);
        NotebookTrainer.Embeddings.TextualInversionEmbedding.Save(Path.Combine(ti, "sks-000002.safetensors"), tensor);
        NotebookTrainer.Embeddings.TextualInversionEmbedding.Save(Path.Combine(ti, "sks.safetensors"), tensor);
        found = TrainingRun.FindLatest(dir.Path);
        Assert.Equal(ti, found.Directory);
        Assert.Equal([TrainedOutputKind.Embedding, TrainedOutputKind.Embedding], found.Outputs.Select(o => o.Kind));
        Assert.Equal([2, null], found.Outputs.Select(o => o.Epoch));

        // A diffusers folder is an output only in a run's output folder (the trainer writes run/training.toml there).
        var folders = Path.Combine(dir.Path, "ft");
        foreach (var name in new[] { "ft-000001", "ft" }) Directory.CreateDirectory(Path.Combine(folders, name));
        foreach (var name in new[] { "ft-000001", "ft" }) File.WriteAllText(Path.Combine(folders, name, "model_index.json"), "{}");
        Assert.Empty(TrainingRun.Open(folders).Outputs);
        Directory.CreateDirectory(Path.Combine(folders, "run"));
        File.WriteAllText(Path.Combine(folders, "run", "training.toml"), "pretrained_model_name_or_path = \"embedded:tiny\"\ntrain_data_dir = \"x\"\n");
        found = TrainingRun.FindLatest(dir.Path);
        Assert.Equal(folders, found.Directory);
        Assert.Equal([(1, TrainedOutputKind.Checkpoint), ((int?)null, TrainedOutputKind.Checkpoint)], found.Outputs.Select(o => (o.Epoch, o.Kind)));
        Assert.Equal(Path.Combine(folders, "base-model", "tiny-sd.safetensors"), found.BaseModelPath);
    }
}

/// <summary>The run layout the trainer writes and Analysis reads: kohya's names, and the parse of each back.</summary>
public sealed class RunFolderTests
{
    [Fact]
    public void Names_are_kohyas_and_parse_back_to_epoch_step_and_output_name()
    {
        var run = new RunFolder("/out", "mine");
        Assert.Equal("/out/mine-000003.safetensors", run.EpochOutput(3));
        Assert.Equal("/out/mine-step00000400.safetensors", run.StepOutput(400));
        Assert.Equal("/out/mine.safetensors", run.FinalOutput);
        Assert.Equal("/out/mine-000003-state", run.EpochState(3));
        Assert.Equal("/out/mine-step00000400-state", run.StepState(400));
        Assert.Equal("/out/mine-000002-state-interrupted", run.InterruptedState(2));
        Assert.Equal(("/out/sample", "/out/run"), (run.SampleDir, run.RecordDir));
        Assert.Equal("/out/logs/pre_mine", run.LogDir(null, "pre_"));
        Assert.Equal("/logs/mine", run.LogDir("/logs", null));
        Assert.Equal("/out/mine-000003", new RunFolder("/out", "mine", "").EpochOutput(3));   // a diffusers folder

        Assert.Equal(3, RunFolder.EpochOf(run.EpochOutput(3)));
        Assert.Null(RunFolder.EpochOf(run.FinalOutput));
        Assert.True(RunFolder.IsStepSave(run.StepOutput(400)));
        Assert.False(RunFolder.IsStepSave(run.EpochOutput(3)));
        Assert.Equal(["mine", "mine", "mine"], new[] { run.EpochOutput(3), run.StepOutput(400), run.FinalOutput }.Select(RunFolder.OutputNameOf));
        Assert.True(RunFolder.IsStateFolder(run.InterruptedState(2)));
        Assert.False(RunFolder.IsStateFolder(run.SampleDir));
    }
}
