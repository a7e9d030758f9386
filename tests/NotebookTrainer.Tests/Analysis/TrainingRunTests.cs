using NotebookTrainer.Analysis;
using NotebookTrainer.Networks;
using NotebookTrainer.SafeTensors;
using NotebookTrainer.Tests.SafeTensors;
using NotebookTrainer.Tests.Sampling;

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
        File.WriteAllLines(Path.Combine(run, "logs", "mine", RunLog.FileName), ["step,epoch,loss", "1,1,0.1"]);

        var found = TrainingRun.FindLatest(dir.Path);
        Assert.Equal(run, found.Directory);
        Assert.Equal([1, 2, null], found.LoraFiles.Select(f => f.Epoch));
        Assert.EndsWith("mine.safetensors", found.FinalLora);
        Assert.EndsWith(RunLog.FileName, found.LogPath);
        Assert.NotNull(found.SampleDir);
        Assert.Throws<FileNotFoundException>(() => TrainingRun.FindLatest(Path.Combine(run, "sample")));

        // 05-train's layout: LoRA files in train/output, logging_dir train/logs/<output_name>.
        var output = Path.Combine(dir.Path, "train2", "output");
        Directory.CreateDirectory(Path.Combine(dir.Path, "train2", "logs", "sample_lora"));
        Directory.CreateDirectory(output);
        File.WriteAllLines(Path.Combine(dir.Path, "train2", "logs", "sample_lora", RunLog.FileName), ["step,epoch,loss", "1,1,0.1"]);
        SafeTensorsWriter.Write(Path.Combine(output, "sample_lora-000001.safetensors"), network.StateDict());
        SafeTensorsWriter.Write(Path.Combine(output, "sample_lora.safetensors"), network.StateDict());
        var separate = TrainingRun.FindLatest(dir.Path);
        Assert.Equal(output, separate.Directory);
        Assert.Equal(Path.Combine(dir.Path, "train2", "logs", "sample_lora", RunLog.FileName), separate.LogPath);
    }
}
