using System.Diagnostics;
using System.Text.Json;
using NotebookTrainer.Datasets;
using NotebookTrainer.SafeTensors;
using NotebookTrainer.Training;
using NotebookTrainer.World;

namespace NotebookTrainer.Tests.Training;

/// <summary>
/// Kills a real <c>ntrain train</c> process (SIGKILL, no chance to clean up) while it is writing a checkpoint, then
/// checks that every checkpoint already in place is whole and that the run resumes from its last complete state.
/// </summary>
public sealed class KillDuringSaveTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("nt-kill-save-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    static Process StartNtrain(params string[] args)
    {
        var process = Process.Start(NtrainProcess.StartInfo(args))!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    static bool SaveInProgress(string output) => Directory.EnumerateFileSystemEntries(output, ".*.tmp").Any();

    [Fact]
    public void Killing_ntrain_mid_save_keeps_earlier_checkpoints_whole_and_the_run_resumes()
    {
        var data = Path.Combine(root, "data");
        SampleDataset.Generate(data, seed: 5, count: 4);
        // One repeat, so an epoch is one step and saves come quickly.
        foreach (var folder in Directory.GetDirectories(data))
            Directory.Move(folder, Path.Combine(data, "1_" + Path.GetFileName(folder).Split('_', 2)[1]));
        var output = Path.Combine(root, "out");
        var config = Path.Combine(root, "training.toml");
        File.WriteAllText(config, $"""
            pretrained_model_name_or_path = "embedded:tiny"
            train_data_dir = {JsonSerializer.Serialize(data)}
            caption_extension = ".txt"
            resolution = 64
            train_batch_size = 4
            max_train_epochs = 12
            save_every_n_epochs = 1
            save_state = true
            network_dim = 32
            network_alpha = 16
            learning_rate = 1e-3
            cache_latents = true
            seed = 7
            output_dir = {JsonSerializer.Serialize(output)}
            output_name = "kill"
            """);

        // A save takes milliseconds; watch for one in progress after at least one LoRA and state are complete, and kill.
        var killedMidSave = false;
        for (var attempt = 0; attempt < 5 && !killedMidSave; attempt++)
        {
            if (Directory.Exists(output)) Directory.Delete(output, recursive: true);
            using var run = StartNtrain("train", "--config", config);
            var clock = Stopwatch.StartNew();
            while (!run.HasExited && clock.Elapsed < TimeSpan.FromMinutes(3))
            {
                if (Directory.Exists(output) && Directory.EnumerateDirectories(output, "kill-*-state").Any() && SaveInProgress(output))
                {
                    run.Kill(entireProcessTree: true);
                    break;
                }
            }
            Assert.True(run.WaitForExit(60_000));
            killedMidSave = SaveInProgress(output);
        }
        Assert.True(killedMidSave, "five runs were never caught in the middle of a save");

        var loras = Directory.GetFiles(output, "kill-*.safetensors").Order(StringComparer.Ordinal).ToList();
        Assert.NotEmpty(loras);
        foreach (var file in loras)
        {
            using var lora = SafeTensorsFile.Open(file);
            foreach (var name in lora.Names) lora.Load(name).Dispose();
            Assert.Equal("32", lora.Metadata["ss_network_dim"]);
        }
        var states = Directory.GetDirectories(output, "kill-*-state").Order(StringComparer.Ordinal).ToList();
        Assert.NotEmpty(states);
        foreach (var state in states)
        {
            Assert.True(TrainingState.ReadPosition(state).Epoch >= 1);
            foreach (var file in Directory.GetFiles(state, "*.safetensors"))
                using (SafeTensorsFile.Open(file)) { }
        }

        using var resumed = StartNtrain("train", "--config", config, "--resume", states[^1]);
        Assert.True(resumed.WaitForExit(300_000), "the resumed run did not finish in 5 minutes");
        Assert.Equal(0, resumed.ExitCode);
        Assert.False(SaveInProgress(output), "the resumed run left the killed run's temporary files behind");
        using var final = SafeTensorsFile.Open(Path.Combine(output, "kill.safetensors"));
        Assert.Equal("12", final.Metadata["ss_epoch"]);
    }
}
