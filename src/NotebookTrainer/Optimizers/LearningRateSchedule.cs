namespace NotebookTrainer.Optimizers;

/// <summary>
/// diffusers' get_scheduler as kohya uses it: the learning rate of optimizer step <c>step</c> (0-based) is
/// the group's initial rate times a factor. Warmup is linear from 0.
/// </summary>
public sealed class LearningRateSchedule
{
    public static readonly string[] Names = ["constant", "constant_with_warmup", "linear", "cosine", "cosine_with_restarts", "polynomial"];

    /// <summary>diffusers' lr_end for polynomial decay.</summary>
    public const double PolynomialEnd = 1e-7;

    public LearningRateSchedule(string name, long totalSteps, long warmupSteps, int numCycles = 1, double power = 1.0)
    {
        if (!Names.Contains(name)) throw new ArgumentException($"lr_scheduler \"{name}\" is not supported; use one of {string.Join(", ", Names)}.");
        // A warmup longer than the run is allowed, as in diffusers: the rate then ramps up for the whole run.
        if (warmupSteps < 0) throw new ArgumentException($"lr_warmup_steps {warmupSteps} must not be negative.");
        (Name, TotalSteps, WarmupSteps, NumCycles, Power) = (name, totalSteps, warmupSteps, numCycles, power);
    }

    public string Name { get; }
    public long TotalSteps { get; }
    public long WarmupSteps { get; }
    public int NumCycles { get; }
    public double Power { get; }

    /// <summary>kohya's lr_warmup_steps: below 1 it is a ratio of the total steps, else a step count.</summary>
    public static long ResolveWarmup(double lrWarmupSteps, long totalSteps) =>
        lrWarmupSteps < 1 ? (long)(lrWarmupSteps * totalSteps) : (long)lrWarmupSteps;

    public double LearningRate(double initial, long step)
    {
        if (Name != "constant" && step < WarmupSteps) return initial * step / Math.Max(1.0, WarmupSteps);
        var progress = (double)(step - WarmupSteps) / Math.Max(1, TotalSteps - WarmupSteps);
        switch (Name)
        {
            case "constant":
            case "constant_with_warmup":
                return initial;
            case "linear":
                return initial * Math.Max(0.0, (double)(TotalSteps - step) / Math.Max(1, TotalSteps - WarmupSteps));
            case "cosine":
                return initial * Math.Max(0.0, 0.5 * (1.0 + Math.Cos(Math.PI * 0.5 * 2.0 * progress)));
            case "cosine_with_restarts":
                if (progress >= 1.0) return 0.0;
                return initial * Math.Max(0.0, 0.5 * (1.0 + Math.Cos(Math.PI * (NumCycles * progress % 1.0))));
            default: // polynomial
                if (step > TotalSteps) return PolynomialEnd;
                if (initial <= PolynomialEnd) return initial;
                var remaining = 1.0 - progress;
                return (initial - PolynomialEnd) * Math.Pow(remaining, Power) + PolynomialEnd;
        }
    }

    /// <summary>Sets every group's learning rate for optimizer step <paramref name="step"/>.</summary>
    public void Apply(IEnumerable<ParameterGroup> groups, long step)
    {
        foreach (var g in groups) g.LearningRate = LearningRate(g.InitialLearningRate, step);
    }
}
