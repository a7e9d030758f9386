using NotebookTrainer.Diffusion;
using NotebookTrainer.Training;
using static TorchSharp.torch;

namespace NotebookTrainer.Tests.Training;

public class DiffusionMathTests
{
    [Fact]
    public void ScheduleMatchesScaledLinearDdpm()
    {
        using var schedule = new ForwardDiffusion();
        var betas = Enumerable.Range(0, 1000).Select(i =>
        {
            var s = Math.Sqrt(0.00085) + (Math.Sqrt(0.012) - Math.Sqrt(0.00085)) * i / 999.0;
            return s * s;
        }).ToArray();
        var product = 1.0;
        var expected = betas.Select(b => product *= 1 - b).ToArray();
        foreach (var t in new[] { 0, 1, 250, 500, 999 })
        {
            Assert.Equal(expected[t], schedule.AlphasCumprod[t].item<double>(), 12);
            Assert.Equal(expected[t] / (1 - expected[t]), schedule.Snr[t].item<double>(), 8);
        }
    }

    [Fact]
    public void AddNoiseAndVelocityFollowTheirFormulas()
    {
        using var schedule = new ForwardDiffusion();
        using var x0 = randn(2, 4, 3, 3);
        using var noise = randn(2, 4, 3, 3);
        using var t = tensor(new long[] { 10, 900 });
        using var noisy = schedule.AddNoise(x0, noise, t);
        using var v = schedule.Velocity(x0, noise, t);
        for (var i = 0; i < 2; i++)
        {
            var a = schedule.AlphasCumprod[t[i].item<long>()].item<double>();
            using var expectedNoisy = x0[i] * Math.Sqrt(a) + noise[i] * Math.Sqrt(1 - a);
            using var expectedV = noise[i] * Math.Sqrt(a) - x0[i] * Math.Sqrt(1 - a);
            Assert.True(noisy[i].allclose(expectedNoisy, rtol: 1e-5, atol: 1e-6));
            Assert.True(v[i].allclose(expectedV, rtol: 1e-5, atol: 1e-6));
        }
    }

    [Fact]
    public void LossAppliesSampleWeightsAndMinSnr()
    {
        using var schedule = new ForwardDiffusion();
        using var prediction = zeros(2, 1, 2, 2);
        using var target = stack(new[] { full(1, 2, 2, 1.0f), full(1, 2, 2, 2.0f) });
        using var t = tensor(new long[] { 100, 800 });
        using var weights = tensor(new[] { 1f, 0.5f });
        Assert.Equal((1 + 4 * 0.5) / 2, DiffusionLoss.Compute(prediction, target, t, weights, schedule).item<float>(), 5);

        var snr = new[] { schedule.Snr[100].item<double>(), schedule.Snr[800].item<double>() };
        var eps = (1 * Math.Min(snr[0], 5) / snr[0] + 2 * Math.Min(snr[1], 5) / snr[1]) / 2;
        Assert.Equal(eps, DiffusionLoss.Compute(prediction, target, t, weights, schedule, 5).item<float>(), 5);
        var vpred = (1 * Math.Min(snr[0], 5) / (snr[0] + 1) + 2 * Math.Min(snr[1], 5) / (snr[1] + 1)) / 2;
        Assert.Equal(vpred, DiffusionLoss.Compute(prediction, target, t, weights, schedule, 5, vParameterization: true).item<float>(), 5);
    }

    [Fact]
    public void OffsetAndPyramidNoiseAreReproducibleAndNormalised()
    {
        using var latents = zeros(4, 4, 32, 32);
        using var g1 = new Generator(3);
        using var g2 = new Generator(3);
        using var a = NoiseSampler.Sample(latents, g1, noiseOffset: 0.1, multiresIterations: 6, multiresDiscount: 0.3);
        using var b = NoiseSampler.Sample(latents, g2, noiseOffset: 0.1, multiresIterations: 6, multiresDiscount: 0.3);
        Assert.True(a.eq(b).all().item<bool>());
        Assert.Equal(1.0, a.std().item<float>(), 3);
        using var g3 = new Generator(3);
        using var plain = NoiseSampler.Sample(latents, g3);
        Assert.False(plain.allclose(a));
    }

    // sd-scripts' conditional_loss, with values worked by hand: error d = 0.5, threshold c.
    [Theory]
    [InlineData("l2", 0.25)]
    [InlineData("l1", 0.5)]
    [InlineData("huber", 0.2 * 0.40990195135927844)]     // 2c(√(d²+c²) − c) with c = 0.1
    [InlineData("smooth_l1", 2 * 0.40990195135927844)]   // 2(√(d²+c²) − c)
    public void LossTypesFollowSdScripts(string type, double expected)
    {
        using var schedule = new ForwardDiffusion();
        var loss = new LossFunction(type, HuberSchedule: "constant", HuberC: 0.1);
        using var prediction = full(new long[] { 2, 1, 2, 2 }, 0.75f);
        using var target = full(new long[] { 2, 1, 2, 2 }, 0.25f);
        using var t = tensor(new long[] { 10, 900 });
        using var elementwise = loss.Elementwise(prediction, target, t, schedule);
        Assert.Equal(new long[] { 2, 1, 2, 2 }, elementwise.shape);
        Assert.Equal(expected, elementwise[1, 0, 1, 1].item<float>(), 5);
        using var weights = ones(2);
        using var mean = DiffusionLoss.Compute(prediction, target, t, weights, schedule, lossFunction: loss);
        Assert.Equal(expected, mean.item<float>(), 5);
    }

    [Fact]
    public void HuberThresholdSchedulesFollowSdScripts()
    {
        using var schedule = new ForwardDiffusion();
        using var t = tensor(new long[] { 0, 250, 999 });
        using var constant = new LossFunction("huber", "constant", HuberC: 0.2, HuberScale: 2).Threshold(t, schedule);
        Assert.All(constant.data<float>().ToArray(), c => Assert.Equal(0.4f, c, 6));
        using var exponential = new LossFunction("huber", "exponential", HuberC: 0.1, HuberScale: 1.5).Threshold(t, schedule);
        var steps = new[] { 0, 250, 999 };
        for (var i = 0; i < 3; i++)
            Assert.Equal(Math.Pow(0.1, steps[i] / 1000.0) * 1.5, exponential[i].item<float>(), 5);
        using var snr = new LossFunction("smooth_l1", "snr", HuberC: 0.1).Threshold(t, schedule);
        for (var i = 0; i < 3; i++)
        {
            var alphaBar = schedule.AlphasCumprod[steps[i]].item<double>();
            var sigma = Math.Sqrt((1 - alphaBar) / alphaBar);
            Assert.Equal(0.9 / ((1 + sigma) * (1 + sigma)) + 0.1, snr[i].item<float>(), 5);
        }
        Assert.True(snr[0].item<float>() > 0.9f && snr[2].item<float>() < 0.11f, "c runs from about 1 on clean timesteps to huber_c on noisy ones");
    }

    [Fact]
    public void ZeroTerminalSnrRescalesAlphaBarButKeepsTheSnrWeights()
    {
        using var plain = new ForwardDiffusion();
        using var zero = new ForwardDiffusion(NoiseSchedule.StableDiffusion, zeroTerminalSnr: true);
        Assert.Equal(0.0, zero.AlphasCumprod[999].item<double>(), 12);
        Assert.Equal(plain.AlphasCumprod[0].item<double>(), zero.AlphasCumprod[0].item<double>(), 12);
        // sd-scripts: √ᾱ' = (√ᾱ − √ᾱ_T) · √ᾱ_0 / (√ᾱ_0 − √ᾱ_T)
        double a0 = Math.Sqrt(plain.AlphasCumprod[0].item<double>()), aT = Math.Sqrt(plain.AlphasCumprod[999].item<double>());
        var expected = Math.Pow((Math.Sqrt(plain.AlphasCumprod[500].item<double>()) - aT) * a0 / (a0 - aT), 2);
        Assert.Equal(expected, zero.AlphasCumprod[500].item<double>(), 12);
        Assert.True(zero.Snr.allclose(plain.Snr, 0, 0), "SNR weights come from the schedule before the rescale, as in sd-scripts");

        using var x0 = ones(1, 4, 2, 2);
        using var noise = full(new long[] { 1, 4, 2, 2 }, 0.5f);
        using var last = tensor(new long[] { 999 });
        using var noisy = zero.AddNoise(x0, noise, last);
        Assert.True(noisy.allclose(noise), "the last timestep is pure noise");
    }
}
