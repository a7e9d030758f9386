using NotebookTrainer.Analysis;
using NotebookTrainer.Cli;
using NotebookTrainer.Tests.SafeTensors;
using NotebookTrainer.Training;

namespace NotebookTrainer.Tests.Analysis;

public class RunLogTests
{
    static string WriteLog(TempDir dir, params string[] lines)
    {
        var folder = Path.Combine(dir.Path, "logs", "mylora");
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, RunFolder.LossLogFile);
        File.WriteAllLines(path, lines);
        return path;
    }

    [Fact]
    public void ReadsTheTrainerCsvWithEpochMeansAndSmoothing()
    {
        using var dir = new TempDir();
        var path = WriteLog(dir,
            "step,epoch,loss,smoothed_loss,lr_text_encoder,lr_unet",
            "1,1,0.30,0.30,0.00005,0.0001",
            "2,1,0.10,0.20,0.00005,0.0001",
            "3,2,0.20,0.20,0.00004,0.00008",
            "4,2,0.40,0.25,0.00003,0.00006",
            "5,2,0.1");   // half-written last line after a crash
        Assert.Equal(path, RunLog.Find(dir.Path));
        var log = RunLog.Load(path);
        Assert.Equal(4, log.Entries.Count);
        Assert.Equal(["lr_text_encoder", "lr_unet"], log.LearningRateColumns);
        Assert.Equal(0.00006, log.Entries[3].LearningRates[1]);
        var epochs = log.EpochMeans();
        Assert.Equal(2, epochs.Count);
        Assert.Equal(0.2, epochs[0].MeanLoss, 10);
        Assert.Equal((2, 0.2, 0.4), (epochs[1].Steps, epochs[1].MinLoss, epochs[1].MaxLoss));
        Assert.Equal(0.3, epochs[1].MeanLoss, 10);

        var smooth = log.SmoothedLoss(0.5);
        Assert.Equal(0.30, smooth[0], 10);   // debiased: the first value is the first loss
        Assert.Equal((0.5 * 0.5 * 0.30 + 0.5 * 0.10) / 0.75, smooth[1], 10);
        var html = log.ToHtml();
        Assert.Contains("0.30000", log.EpochTable().ToHtml());
        Assert.Contains("Plotly", html);
        Assert.Contains("<table", html);
        Assert.Equal(0, Ntrain.Run(["log", dir.Path]));
    }

    [Fact]
    public void BrokenFilesNameFileLineAndColumn()
    {
        using var dir = new TempDir();
        var missing = WriteLog(dir, "step,loss", "1,0.5");
        var e = Assert.Throws<InvalidDataException>(() => RunLog.Load(missing));
        Assert.Contains("loss.csv:1", e.Message);
        Assert.Contains("'epoch'", e.Message);
        var bad = WriteLog(dir, "step,epoch,loss", "1,1,0.5", "2,1,nan?", "3,1,0.4");
        e = Assert.Throws<InvalidDataException>(() => RunLog.Load(bad));
        Assert.Contains("loss.csv:3", e.Message);
        Assert.Contains("'loss'", e.Message);
        Assert.Equal(2, Ntrain.Run(["log", bad]));
    }
}
