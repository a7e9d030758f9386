using NotebookTrainer.Models;
using NotebookTrainer.Pretraining;
using NotebookTrainer.World;

namespace NotebookTrainer.Tests.World;

/// <summary>
/// <c>ntrain pretrain</c> at smoke sizes: every phase runs and records itself, a second run with more U-Net steps resumes
/// the U-Net and redoes only what depends on it, and the installed folder loads like the embedded model and says how
/// it was made.
/// </summary>
public sealed class WorldPretrainingTests : IDisposable
{
    readonly string dir = Path.Combine(Path.GetTempPath(), $"ntrain-pretrain-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public void MoreUnetStepsResumeTheUnetAndRedoOnlyWhatDependsOnIt()
    {
        var options = PretrainingOptions.Smoke(Path.Combine(dir, "run"));
        var first = new WorldPretraining(options);
        var results = first.Run();
        first.RecordCommand("ntrain pretrain --out run --smoke");
        Assert.Equal(["init", "data", "vae", "unet", "decoder", "judge", "evaluate"], results.Select(r => r.Name));
        Assert.Equal("6", results.Single(r => r.Name == "unet").Figures["steps"]);
        var truths = Directory.GetFiles(Path.Combine(options.OutputDir, "data", "unet"), "*.txt", SearchOption.AllDirectories);
        var taught = truths.Select(t => File.ReadAllText(Path.ChangeExtension(t, WorldPretraining.UnetCaptionExtension))).ToList();
        Assert.Equal(results.Single(r => r.Name == "unet").Figures["unknown_shape_word_captions"], truths.Zip(taught).Count(p => File.ReadAllText(p.First) != p.Second).ToString());
        Assert.Contains($"caption_extension = \"{WorldPretraining.UnetCaptionExtension}\"", File.ReadAllText(Path.Combine(options.OutputDir, "unet", "dataset.toml")));

        var log = new List<string>();
        var second = new WorldPretraining(options with { UnetSteps = 8 }, log.Add);
        var again = second.Run();
        second.RecordCommand("ntrain pretrain --out run --smoke --unet-steps 8");

        Assert.Equal("8", again.Single(r => r.Name == "unet").Figures["steps"]);
        Assert.Contains(log, l => l.StartsWith("unet: runs again (6 steps done, 8 asked", StringComparison.Ordinal));
        Assert.Contains(log, l => l.StartsWith("decoder: runs again (unet ran again)", StringComparison.Ordinal));
        Assert.Contains(log, l => l.StartsWith("evaluate: runs again (decoder ran again)", StringComparison.Ordinal));
        Assert.Contains(log, l => l.StartsWith("judge: done before, skipped", StringComparison.Ordinal));
        Assert.Contains(log, l => l.StartsWith("vae: done before, skipped", StringComparison.Ordinal));
        Assert.Contains(log, l => l.Contains("at step 6", StringComparison.Ordinal) || l.Contains("step 6,", StringComparison.Ordinal));
        Assert.Equal(["decoder", "evaluate", "unet"], second.PhasesRun.Order());

        var third = new WorldPretraining(options with { UnetSteps = 8 });
        third.Run();
        Assert.Empty(third.PhasesRun);   // all done before: ntrain pretrain --install records no command for it

        var install = Path.Combine(dir, "installed");
        second.Install(install, again);
        var provenance = File.ReadAllText(Path.Combine(install, "PROVENANCE.md"));
        var firstCommand = provenance.IndexOf("ntrain pretrain --out run --smoke\n", StringComparison.Ordinal);
        Assert.True(firstCommand >= 0, provenance);
        Assert.True(provenance.IndexOf("--unet-steps 8", StringComparison.Ordinal) > firstCommand, provenance);
        var unetLog = File.ReadAllLines(Path.Combine(install, "pretraining", "unet-loss.csv"));
        Assert.Equal(8, unetLog.Skip(1).Count(l => l.Length > 0));
        using var model = StableDiffusion.Load(Path.Combine(install, WorldModel.ModelFileName));
        Assert.Equal(WorldModel.Resolution / 8, model.Unet.Config.SampleSize);
    }
}
