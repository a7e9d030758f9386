using NotebookTrainer.Diffusion;
using NotebookTrainer.ModelConfigs;
using NotebookTrainer.Sampling;

namespace NotebookTrainer.Tests.Sampling;

public class NoiseScheduleTests
{
    readonly NoiseSchedule schedule = NoiseSchedule.StableDiffusion;

    [Fact]
    public void BetasAreTheScaledLinearDdpmSchedule()
    {
        Assert.Equal(1000, schedule.Betas.Length);
        Assert.Equal(0.00085, schedule.Betas[0], 12);
        Assert.Equal(0.012, schedule.Betas[^1], 12);
        var mid = Math.Sqrt(0.00085) + (Math.Sqrt(0.012) - Math.Sqrt(0.00085)) * 500 / 999;
        Assert.Equal(mid * mid, schedule.Betas[500], 12);
        // ᾱ at the last step and σ range of Stable Diffusion (known from diffusers: 0.0047, σ 0.0292 … 14.61).
        Assert.Equal(0.004660, schedule.AlphasCumprod[^1], 5);
        Assert.Equal(0.0292, schedule.Sigmas[0], 4);
        Assert.Equal(14.6146, schedule.Sigmas[^1], 3);
    }

    [Fact]
    public void TimestepSpacingsMatchDiffusers()
    {
        var leading = schedule.LeadingTimesteps(50);
        Assert.Equal(981, leading[0]);
        Assert.Equal(961, leading[1]);
        Assert.Equal(1, leading[^1]);
        var linspace = schedule.LinspaceTimesteps(4);
        Assert.Equal([999, 666, 333, 0], linspace);
        Assert.Equal([999, 749, 499, 249], schedule.TrailingTimesteps(4));
        Assert.Throws<ArgumentOutOfRangeException>(() => schedule.LinspaceTimesteps(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => schedule.LeadingTimesteps(1001));
    }

    [Fact]
    public void SigmaGridsRunFromSigmaMaxToZero()
    {
        var timesteps = schedule.LinspaceTimesteps(20);
        var sigmas = schedule.SigmasFor(timesteps);
        var karras = schedule.KarrasSigmasFor(timesteps);
        Assert.Equal(21, sigmas.Length);
        Assert.Equal(schedule.Sigmas[^1], sigmas[0], 10);
        Assert.Equal(schedule.Sigmas[0], sigmas[^2], 10);
        Assert.Equal(sigmas[0], karras[0], 10);
        Assert.Equal(sigmas[^2], karras[^2], 10);
        Assert.Equal(0, karras[^1]);
        for (var i = 1; i < karras.Length; i++) Assert.True(karras[i] < karras[i - 1]);
        // Karras spends more steps at low noise: its middle σ is below the linspace grid's.
        Assert.True(karras[10] < sigmas[10]);
        // ρ = 7: σ^(1/7) is evenly spaced.
        var roots = karras[..^1].Select(s => Math.Pow(s, 1 / 7.0)).ToArray();
        for (var i = 2; i < roots.Length; i++) Assert.Equal(roots[1] - roots[0], roots[i] - roots[i - 1], 10);
    }

    [Fact]
    public void TimestepAtInvertsSigmaAtOnTrainingSteps()
    {
        foreach (var t in new[] { 0, 1, 250, 999 })
            Assert.Equal(t, schedule.TimestepAt(schedule.Sigmas[t]), 9);
        var between = schedule.TimestepAt(Math.Sqrt(schedule.Sigmas[400] * schedule.Sigmas[401]));
        Assert.Equal(400.5, between, 2);
    }

    [Fact]
    public void UnknownBetaScheduleNamesTheKey()
    {
        var e = Assert.Throws<ArgumentException>(() => new NoiseSchedule(NoiseSchedulerConfig.Epsilon with { BetaSchedule = "cosine" }));
        Assert.Contains("beta_schedule", e.Message);
    }
}
