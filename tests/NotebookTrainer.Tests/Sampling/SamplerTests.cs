using NotebookTrainer.Diffusion;
using NotebookTrainer.ModelConfigs;
using NotebookTrainer.Sampling.Samplers;
using NotebookTrainer.Sampling;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.Tests.Sampling;

public class SamplerTests
{
    static readonly double[] Means = [0.5, -1.0, 0.25, 2.0];
    const double Std = 0.6;

    static Tensor Noise(long seed, int side = 32) => randn([1, 4, side, side], dtype: ScalarType.Float64, generator: new Generator((ulong)seed));

    /// <summary>What an exact solver returns for the start a sampler builds from <paramref name="noise"/>.</summary>
    static Tensor ExactResult(Sampler sampler, GaussianDataDenoiser toy, Tensor noise, int steps)
    {
        var schedule = sampler.Schedule;
        if (sampler is KDiffusionSampler k)
        {
            var sigmaMax = k.SigmasFor(steps)[0];
            return toy.Flow(noise * Math.Sqrt(sigmaMax * sigmaMax + 1), sigmaMax, 0);
        }
        var first = (int)schedule.LeadingTimesteps(steps)[0];
        var sigmaFirst = schedule.Sigmas[first];
        var sigmaLast = schedule.Sigmas[0];
        return toy.Flow(noise * Math.Sqrt(sigmaFirst * sigmaFirst + 1), sigmaFirst, sigmaLast) / Math.Sqrt(sigmaLast * sigmaLast + 1);
    }

    static double Error(string name, int steps, NoiseSchedule? schedule = null)
    {
        schedule ??= NoiseSchedule.StableDiffusion;
        var sampler = SamplerCatalog.Create(name, schedule);
        var toy = new GaussianDataDenoiser(schedule, Means, Std);
        using var noise = Noise(1);
        using var result = sampler.Sample(toy.Predict, noise, steps);
        using var exact = ExactResult(sampler, toy, noise, steps);
        return (result - exact).abs().max().item<double>();
    }

    // Measured max errors at 160 steps: ddim 0.028, euler 0.034, heun 0.0023, lms 7e-6, dpm_2 2e-4, dpmsolver 0.005,
    // dpmsolver++ 0.010, karras 0.0022. Heun and DPM++ end with a first-order step onto σ = 0 (as k-diffusion and
    // diffusers do), which leaves a floor of about 0.002 on this problem.
    [Theory]
    [InlineData("ddim", 0.04)]
    [InlineData("euler", 0.05)]
    [InlineData("heun", 0.005)]
    [InlineData("lms", 0.0005)]
    [InlineData("dpm_2", 0.001)]
    [InlineData("dpmsolver", 0.01)]
    [InlineData("dpmsolver++", 0.02)]
    [InlineData("dpmsolver++_karras", 0.005)]
    public void DeterministicSamplersReachTheExactOdeSolution(string name, double tolerance)
    {
        var error = Error(name, 160);
        Assert.True(error < tolerance, $"{name}: max |x − exact| = {error:G4} after 160 steps, expected < {tolerance}");
    }

    [Theory]
    [InlineData("euler")]
    [InlineData("ddim")]
    public void FirstOrderSamplersHalveTheirErrorWhenStepsDouble(string name)
    {
        var ratio = Error(name, 40) / Error(name, 80);
        Assert.InRange(ratio, 1.6, 2.4);
    }

    [Fact]
    public void HigherOrderSamplersBeatEulerAtTheSameStepCount()
    {
        var euler = Error("euler", 40);
        foreach (var name in new[] { "heun", "lms", "dpm_2", "dpmsolver++_karras" })
        {
            var error = Error(name, 40);
            Assert.True(error < euler / 5, $"{name}: error {error:G4} at 40 steps is not well below euler's {euler:G4}");
        }
        // The multistep solvers are second order: doubling the steps cuts the error by more than Euler's factor 2.
        foreach (var name in new[] { "dpmsolver", "dpmsolver++" })
            Assert.True(Error(name, 40) / Error(name, 80) > 2.6, $"{name} does not converge faster than first order");
    }

    [Fact]
    public void VPredictionGivesTheSameTrajectoryAsEpsilonPrediction()
    {
        foreach (var name in new[] { "ddim", "euler", "dpmsolver++" })
        {
            var epsilon = SamplerCatalog.Create(name, NoiseSchedule.StableDiffusion);
            var vSchedule = new NoiseSchedule(NoiseSchedulerConfig.VPrediction);
            var v = SamplerCatalog.Create(name, vSchedule);
            using var noise = Noise(3);
            using var a = epsilon.Sample(new GaussianDataDenoiser(epsilon.Schedule, Means, Std).Predict, noise, 15);
            using var b = v.Sample(new GaussianDataDenoiser(vSchedule, Means, Std).Predict, noise, 15);
            Assert.True((a - b).abs().max().item<double>() < 1e-6, $"{name}: v-prediction diverges from ε-prediction");
        }
    }

    [Theory]
    [InlineData("euler_a")]
    [InlineData("dpm_2_a")]
    public void AncestralSamplersDrawFromTheDataDistribution(string name)
    {
        var sampler = SamplerCatalog.Create(name, NoiseSchedule.StableDiffusion);
        var toy = new GaussianDataDenoiser(sampler.Schedule, Means, Std);
        using var noise = Noise(5, side: 64);
        using var result = sampler.Sample(toy.Predict, noise, 60, new Generator(42));
        AssertDistribution(result, name);
        using var exact = ExactResult(sampler, toy, noise, 60);
        Assert.True((result - exact).abs().mean().item<double>() > 0.1, $"{name} must add fresh noise, not follow the ODE");
    }

    [Fact]
    public void DdimWithEtaOneDrawsFromTheDataDistribution()
    {
        var sampler = new DdimSampler(NoiseSchedule.StableDiffusion, eta: 1);
        var toy = new GaussianDataDenoiser(sampler.Schedule, Means, Std);
        using var noise = Noise(6, side: 64);
        using var result = sampler.Sample(toy.Predict, noise, 100, new Generator(7));
        // DDIM ends at ᾱ₀ (set_alpha_to_one = false): x = √ᾱ₀·x₀ + √(1−ᾱ₀)·ε, within the tolerances below.
        AssertDistribution(result, "ddim η=1");
    }

    static void AssertDistribution(Tensor result, string name)
    {
        for (var c = 0; c < Means.Length; c++)
        {
            var channel = result[0, c];
            var mean = channel.mean().item<double>();
            var std = channel.std().item<double>();
            Assert.True(Math.Abs(mean - Means[c]) < 0.05, $"{name}: channel {c} mean {mean:F3}, data mean {Means[c]}");
            Assert.True(Math.Abs(std - Std) < 0.05, $"{name}: channel {c} std {std:F3}, data std {Std}");
        }
    }

    [Theory]
    [InlineData("euler_a")]
    [InlineData("dpm_2_a")]
    public void IdenticalSeedsGiveIdenticalImages(string name)
    {
        var sampler = SamplerCatalog.Create(name, NoiseSchedule.StableDiffusion);
        var toy = new GaussianDataDenoiser(sampler.Schedule, Means, Std);
        using var noise = Noise(8);
        using var a = sampler.Sample(toy.Predict, noise, 12, new Generator(1234));
        using var b = sampler.Sample(toy.Predict, noise, 12, new Generator(1234));
        using var c = sampler.Sample(toy.Predict, noise, 12, new Generator(1235));
        Assert.Equal(0, (a - b).abs().max().item<double>());
        Assert.True((a - c).abs().max().item<double>() > 1e-3, "different seeds, same result");
    }

    [Theory]
    [InlineData("euler", 1)]
    [InlineData("heun", 2)]
    [InlineData("dpm_2", 2)]
    [InlineData("ddim", 1)]
    public void EvaluationsPerStepMatchTheMethod(string name, int perStep)
    {
        var sampler = SamplerCatalog.Create(name, NoiseSchedule.StableDiffusion);
        var toy = new GaussianDataDenoiser(sampler.Schedule, Means, Std);
        using var noise = Noise(9, side: 8);
        var finished = new List<int>();
        using var _ = sampler.Sample(toy.Predict, noise, 10, onStep: finished.Add);
        Assert.Equal(Enumerable.Range(1, 10), finished);
        // Heun and DPM2 take a single evaluation on the last step to σ = 0.
        var expected = perStep == 1 ? 10 : 2 * 10 - 1;
        Assert.Equal(expected, toy.EvaluationCount);
        Assert.Equal(perStep, sampler.EvaluationsPerStep);
    }

    [Fact]
    public void CancellationStopsBetweenSteps()
    {
        var sampler = SamplerCatalog.Create("euler", NoiseSchedule.StableDiffusion);
        var toy = new GaussianDataDenoiser(sampler.Schedule, Means, Std);
        using var noise = Noise(10, side: 8);
        using var cts = new CancellationTokenSource();
        Assert.Throws<OperationCanceledException>(() => sampler.Sample(toy.Predict, noise, 20, onStep: s => { if (s == 3) cts.Cancel(); }, cancellation: cts.Token));
        Assert.Equal(3, toy.EvaluationCount);
    }

    [Fact]
    public void LmsCoefficientsIntegrateTheInterpolatingPolynomial()
    {
        double[] sigmas = [14.6, 9.0, 5.5, 3.1, 1.7, 0.9, 0];
        for (var i = 0; i < sigmas.Length - 1; i++)
            for (var order = 1; order <= Math.Min(i + 1, 4); order++)
            {
                // The basis polynomials sum to 1, so the coefficients sum to the step length.
                var sum = Enumerable.Range(0, order).Sum(j => LmsSampler.Coefficient(sigmas, i, order, j));
                Assert.Equal(sigmas[i + 1] - sigmas[i], sum, 10);
            }
        // For order 2, the coefficient of the older derivative is −Δ²/(2·(σᵢ₋₁ − σᵢ)) (trapezoid of a line).
        var delta = sigmas[3] - sigmas[2];
        Assert.Equal(delta * delta / (2 * (sigmas[1] - sigmas[2])), LmsSampler.Coefficient(sigmas, 2, 2, 1), 10);
    }

    [Fact]
    public void CatalogKnowsKohyaNamesAndAliases()
    {
        foreach (var name in SamplerCatalog.Names)
            Assert.NotNull(SamplerCatalog.Create(name, NoiseSchedule.StableDiffusion));
        Assert.IsType<EulerAncestralSampler>(SamplerCatalog.Create("K_EULER_A", NoiseSchedule.StableDiffusion));
        Assert.Contains("closest", SamplerCatalog.Describe("pndm"));
        var e = Assert.Throws<ArgumentException>(() => SamplerCatalog.Create("plms2", NoiseSchedule.StableDiffusion));
        Assert.Contains("euler_a", e.Message);
    }
}
