using static TorchSharp.torch;

namespace NotebookTrainer.Optimizers;

/// <summary>
/// Prodigy (Mishchenko &amp; Defazio 2023, prodigyopt 1.x): Adam whose step size d is estimated from the
/// distance travelled from the initial weights. Learning rates are multipliers of d (users set 1.0); all groups
/// must share one learning rate or use 0.
/// </summary>
public sealed class Prodigy : Optimizer
{
    readonly double beta1, beta2, beta3, eps, weightDecay, d0, dCoef, growthRate;
    readonly bool decouple, useBiasCorrection, safeguardWarmup;

    public Prodigy(IReadOnlyList<ParameterGroup> groups, double beta1 = 0.9, double beta2 = 0.999, double? beta3 = null, double eps = 1e-8,
        double weightDecay = 0, bool decouple = true, bool useBiasCorrection = false, bool safeguardWarmup = false,
        double d0 = 1e-6, double dCoef = 1.0, double growthRate = double.PositiveInfinity)
        : base(groups)
    {
        SharedLearningRate.Check("Prodigy", groups);
        (this.beta1, this.beta2, this.beta3, this.eps, this.weightDecay) = (beta1, beta2, beta3 ?? Math.Sqrt(beta2), eps, weightDecay);
        (this.decouple, this.useBiasCorrection, this.safeguardWarmup, this.d0, this.dCoef, this.growthRate) = (decouple, useBiasCorrection, safeguardWarmup, d0, dCoef, growthRate);
        Scalars["d"] = d0;
        Scalars["d_max"] = d0;
        Scalars["d_numerator"] = 0;
    }

    public override string Name => "Prodigy";

    /// <summary>Current step-size estimate; the effective learning rate is d · lr.</summary>
    public double D => Scalars["d"];

    protected override void StepCore()
    {
        var d = Scalars["d"];
        var dMax = Scalars["d_max"];
        var lr = SharedLearningRate.Max(Groups);
        var k = StepCount - 1;
        var biasCorrection = useBiasCorrection ? Math.Sqrt(1 - Math.Pow(beta2, k + 1)) / (1 - Math.Pow(beta1, k + 1)) : 1.0;
        var dlr = d * lr * biasCorrection;
        var dNumerator = Scalars["d_numerator"] * beta3;
        var dDenom = 0.0;
        foreach (var (group, i, p, rawGrad) in ParametersWithGradients())
        {
            var grad = weightDecay != 0 && !decouple ? rawGrad.add(p, Held(weightDecay)) : rawGrad;
            var s = StateOf(i, "s", () => zeros_like(p));
            var p0 = StateOf(i, "p0", () => p.detach().clone());
            var m = StateOf(i, "exp_avg", () => zeros_like(p));
            var v = StateOf(i, "exp_avg_sq", () => zeros_like(p));
            if (group.LearningRate <= 0) continue;
            dNumerator += d / d0 * dlr * grad.flatten().dot((p0 - p).flatten()).item<float>();
            m.mul_(Held(beta1)).add_(grad, Held(d * (1 - beta1)));
            v.mul_(Held(beta2)).addcmul_(grad, grad, Held(d * d * (1 - beta2)));
            s.mul_(Held(beta3)).add_(grad, Held(safeguardWarmup ? d / d0 * d : d / d0 * dlr));
            dDenom += s.abs().sum().item<float>();
        }
        if (dDenom == 0) return;
        if (lr > 0)
        {
            var dHat = dCoef * dNumerator / dDenom;
            if (d == d0) d = Math.Max(d, dHat);
            dMax = Math.Max(dMax, dHat);
            d = Math.Min(dMax, d * growthRate);
        }
        Scalars["d"] = d;
        Scalars["d_max"] = dMax;
        Scalars["d_numerator"] = dNumerator;
        foreach (var (group, i, p, _) in ParametersWithGradients())
        {
            var m = StateOf(i, "exp_avg", () => zeros_like(p));
            var v = StateOf(i, "exp_avg_sq", () => zeros_like(p));
            var denom = v.sqrt().add_(Held(d * eps), Held(1));
            if (weightDecay != 0 && decouple) p.add_(p, Held(-weightDecay * dlr));
            p.addcdiv_(m, denom, Held(-dlr));
        }
    }
}
