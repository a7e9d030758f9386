using NotebookTrainer.ModelConfigs;

namespace NotebookTrainer.Diffusion;

/// <summary>
/// The DDPM noise schedule of Stable Diffusion 1.x/2.x (kohya-compat §5): β, ᾱ = cumprod(1 − β) and the
/// k-diffusion view σ = √((1 − ᾱ)/ᾱ), where x = x₀ + σ·ε equals the DDPM sample x_t divided by √ᾱ.
/// </summary>
public sealed class NoiseSchedule
{
    public NoiseSchedule(NoiseSchedulerConfig config)
    {
        Config = config;
        var n = config.NumTrainTimesteps;
        Betas = config.BetaSchedule switch
        {
            "scaled_linear" => Linspace(Math.Sqrt(config.BetaStart), Math.Sqrt(config.BetaEnd), n).Select(b => b * b).ToArray(),
            "linear" => Linspace(config.BetaStart, config.BetaEnd, n),
            _ => throw new ArgumentException($"beta_schedule '{config.BetaSchedule}' is not supported; use \"scaled_linear\" (Stable Diffusion) or \"linear\".", nameof(config)),
        };
        AlphasCumprod = new double[n];
        var product = 1.0;
        for (var i = 0; i < n; i++) AlphasCumprod[i] = product *= 1 - Betas[i];
        Sigmas = AlphasCumprod.Select(a => Math.Sqrt((1 - a) / a)).ToArray();
    }

    public static NoiseSchedule StableDiffusion { get; } = new(NoiseSchedulerConfig.Epsilon);

    public NoiseSchedulerConfig Config { get; }
    public int TrainTimesteps => Config.NumTrainTimesteps;
    public bool IsVPrediction => Config.PredictionType == "v_prediction";
    public double[] Betas { get; }
    public double[] AlphasCumprod { get; }
    /// <summary>σ of every training timestep, increasing with t.</summary>
    public double[] Sigmas { get; }

    /// <summary>diffusers' "leading" spacing (DDIM, PNDM with steps_offset 1): every ⌊T/N⌋-th step, plus the offset, descending.</summary>
    public double[] LeadingTimesteps(int steps, int stepsOffset = 1)
    {
        CheckSteps(steps);
        var ratio = TrainTimesteps / steps;
        return Enumerable.Range(0, steps).Reverse().Select(i => (double)(i * ratio + stepsOffset)).ToArray();
    }

    /// <summary>diffusers' "linspace" spacing (Euler, Heun, LMS, DPM-Solver defaults): N points from T−1 down to 0, fractional.</summary>
    public double[] LinspaceTimesteps(int steps)
    {
        CheckSteps(steps);
        return Linspace(TrainTimesteps - 1, 0, steps);
    }

    /// <summary>diffusers' "trailing" spacing: T, T − T/N, … rounded, minus one, descending.</summary>
    public double[] TrailingTimesteps(int steps)
    {
        CheckSteps(steps);
        var ratio = TrainTimesteps / (double)steps;
        return Enumerable.Range(0, steps).Select(i => Math.Round(TrainTimesteps - i * ratio) - 1).ToArray();
    }

    /// <summary>σ at (fractional) timesteps by linear interpolation in t, followed by the final 0 (diffusers' k-samplers).</summary>
    public double[] SigmasFor(double[] timesteps) => timesteps.Select(SigmaAt).Append(0).ToArray();

    /// <summary>Karras et al. (2022) ρ = 7 spacing between the σ of the first and last of <paramref name="timesteps"/>, followed by 0.</summary>
    public double[] KarrasSigmasFor(double[] timesteps, double rho = 7)
    {
        var sigmaMax = SigmaAt(timesteps[0]);
        var sigmaMin = SigmaAt(timesteps[^1]);
        var maxInv = Math.Pow(sigmaMax, 1 / rho);
        var minInv = Math.Pow(sigmaMin, 1 / rho);
        var n = timesteps.Length;
        return Enumerable.Range(0, n)
            .Select(i => Math.Pow(maxInv + (n == 1 ? 0 : i / (double)(n - 1)) * (minInv - maxInv), rho))
            .Append(0).ToArray();
    }

    public double SigmaAt(double timestep)
    {
        var t = Math.Clamp(timestep, 0, TrainTimesteps - 1);
        var low = (int)Math.Floor(t);
        var high = Math.Min(low + 1, TrainTimesteps - 1);
        return Sigmas[low] + (t - low) * (Sigmas[high] - Sigmas[low]);
    }

    /// <summary>The fractional timestep whose σ is <paramref name="sigma"/>, interpolating log σ (k-diffusion's sigma_to_t).</summary>
    public double TimestepAt(double sigma)
    {
        var logSigma = Math.Log(Math.Max(sigma, 1e-10));
        if (logSigma <= Math.Log(Sigmas[0])) return 0;
        if (logSigma >= Math.Log(Sigmas[^1])) return TrainTimesteps - 1;
        var high = Array.BinarySearch(Sigmas, sigma);
        if (high >= 0) return high;
        high = ~high;
        var low = high - 1;
        var lowLog = Math.Log(Sigmas[low]);
        var w = (logSigma - lowLog) / (Math.Log(Sigmas[high]) - lowLog);
        return low + w;
    }

    void CheckSteps(int steps)
    {
        if (steps < 1 || steps > TrainTimesteps)
            throw new ArgumentOutOfRangeException(nameof(steps), steps, $"sampling steps must be between 1 and {TrainTimesteps}.");
    }

    static double[] Linspace(double start, double end, int n) =>
        Enumerable.Range(0, n).Select(i => n == 1 ? start : start + (end - start) * i / (n - 1)).ToArray();
}
