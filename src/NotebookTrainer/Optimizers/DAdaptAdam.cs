using static TorchSharp.torch;

namespace NotebookTrainer.Optimizers;

/// <summary>
/// D-Adaptation Adam (Defazio &amp; Mishchenko 2023, dadaptation 3.x): Adam with the step size d estimated
/// from a weighted sum of gradient correlations. Learning rates are multipliers of d (users set 1.0).
/// </summary>
public sealed class DAdaptAdam : Optimizer
{
    readonly double beta1, beta2, eps, weightDecay, growthRate;
    readonly bool decouple, useBiasCorrection;

    public DAdaptAdam(IReadOnlyList<ParameterGroup> groups, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0,
        bool decouple = false, bool useBiasCorrection = false, double d0 = 1e-6, double growthRate = double.PositiveInfinity)
        : base(groups)
    {
        SharedLearningRate.Check("DAdaptAdam", groups);
        (this.beta1, this.beta2, this.eps, this.weightDecay, this.growthRate, this.decouple, this.useBiasCorrection) = (beta1, beta2, eps, weightDecay, growthRate, decouple, useBiasCorrection);
        Scalars["d"] = d0;
        Scalars["numerator_weighted"] = 0;
    }

    public override string Name => "DAdaptAdam";

    public double D => Scalars["d"];

    protected override void StepCore()
    {
        var d = Scalars["d"];
        var lr = SharedLearningRate.Max(Groups);
        var k = StepCount - 1;
        var biasCorrection = useBiasCorrection ? Math.Sqrt(1 - Math.Pow(beta2, k + 1)) / (1 - Math.Pow(beta1, k + 1)) : 1.0;
        var dlr = d * lr * biasCorrection;
        var sqrtBeta2 = Math.Sqrt(beta2);
        var numeratorAccum = 0.0;
        var skL1 = 0.0;
        foreach (var (group, i, p, rawGrad) in ParametersWithGradients())
        {
            var grad = weightDecay != 0 && !decouple ? rawGrad.add(p, Held(weightDecay)) : rawGrad;
            var s = StateOf(i, "s", () => zeros_like(p));
            var m = StateOf(i, "exp_avg", () => zeros_like(p));
            var v = StateOf(i, "exp_avg_sq", () => zeros_like(p));
            if (group.LearningRate <= 0) continue;
            var denom = v.sqrt().add_(Held(eps), Held(1));
            numeratorAccum += dlr * grad.flatten().dot(s.div(denom).flatten()).item<float>();
            m.mul_(Held(beta1)).add_(grad, Held(dlr * (1 - beta1)));
            v.mul_(Held(beta2)).addcmul_(grad, grad, Held(1 - beta2));
            s.mul_(Held(sqrtBeta2)).add_(grad, Held(dlr * (1 - sqrtBeta2)));
            skL1 += s.abs().sum().item<float>();
        }
        var numeratorWeighted = sqrtBeta2 * Scalars["numerator_weighted"] + (1 - sqrtBeta2) * numeratorAccum;
        if (skL1 == 0) return;
        if (lr > 0)
        {
            var dHat = numeratorWeighted / ((1 - sqrtBeta2) * skL1);
            d = Math.Max(d, Math.Min(dHat, d * growthRate));
        }
        Scalars["d"] = d;
        Scalars["numerator_weighted"] = numeratorWeighted;
        foreach (var (_, i, p, _) in ParametersWithGradients())
        {
            var m = StateOf(i, "exp_avg", () => zeros_like(p));
            var v = StateOf(i, "exp_avg_sq", () => zeros_like(p));
            var denom = v.sqrt().add_(Held(eps), Held(1));
            if (weightDecay != 0 && decouple) p.add_(p, Held(-weightDecay * dlr));
            p.addcdiv_(m, denom, Held(-1));
        }
    }
}
