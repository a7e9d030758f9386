using static TorchSharp.torch;

namespace NotebookTrainer.Optimizers;

/// <summary>
/// transformers' Adafactor: factored second moments for ≥2-dim parameters (rows and columns of the last two
/// dims), update clipping, optional first moment (beta1). With relative_step the learning rate is
/// min(1e-2, 1/√step) (or 1e-6·step with warmup_init), times max(eps2, RMS(p)) with scale_parameter; the
/// group learning rate is then ignored, as kohya's AdafactorSchedule reports.
/// </summary>
public sealed class Adafactor : Optimizer
{
    readonly double eps1, eps2, clipThreshold, decayRate, weightDecay;
    readonly double? beta1;
    readonly bool scaleParameter, relativeStep, warmupInit;

    public Adafactor(IReadOnlyList<ParameterGroup> groups, double eps1 = 1e-30, double eps2 = 1e-3, double clipThreshold = 1.0,
        double decayRate = -0.8, double? beta1 = null, double weightDecay = 0, bool scaleParameter = true, bool relativeStep = true, bool warmupInit = false)
        : base(groups)
    {
        if (warmupInit && !relativeStep) throw new ArgumentException("Adafactor: warmup_init=True needs relative_step=True.");
        (this.eps1, this.eps2, this.clipThreshold, this.decayRate, this.beta1, this.weightDecay) = (eps1, eps2, clipThreshold, decayRate, beta1, weightDecay);
        (this.scaleParameter, this.relativeStep, this.warmupInit) = (scaleParameter, relativeStep, warmupInit);
    }

    public override string Name => "Adafactor";

    public bool RelativeStep => relativeStep;

    /// <summary>The learning rate the last step used for the first parameter (what kohya logs for Adafactor).</summary>
    public double LastLearningRate { get; private set; }

    static Tensor Rms(Tensor t) => t.mul(t).mean().sqrt();   // not square(): it passes TorchSharp a temporary Scalar (see Held)

    double LearningRate(double groupLr, double paramRms)
    {
        var step = StepCount;
        var relative = groupLr;
        if (relativeStep) relative = Math.Min(warmupInit ? 1e-6 * step : 1e-2, 1.0 / Math.Sqrt(step));
        var scale = scaleParameter ? Math.Max(eps2, paramRms) : 1.0;
        return scale * relative;
    }

    protected override void StepCore()
    {
        var step = StepCount;
        var beta2t = 1.0 - Math.Pow(step, decayRate);
        var first = true;
        foreach (var (group, i, p, rawGrad) in ParametersWithGradients())
        {
            var grad = rawGrad.to(ScalarType.Float32);
            var factored = grad.dim() >= 2;
            var lr = LearningRate(group.LearningRate, Rms(p.to(ScalarType.Float32)).item<float>());
            if (first) { LastLearningRate = lr; first = false; }
            var update = grad.mul(grad).add_(Held(eps1), Held(1));
            if (factored)
            {
                var row = StateOf(i, "exp_avg_sq_row", () => zeros(grad.shape[..^1], device: grad.device));
                var col = StateOf(i, "exp_avg_sq_col", () => zeros([.. grad.shape[..^2], grad.shape[^1]], device: grad.device));
                row.mul_(Held(beta2t)).add_(update.mean([-1]), Held(1 - beta2t));
                col.mul_(Held(beta2t)).add_(update.mean([-2]), Held(1 - beta2t));
                var rowFactor = row.div(row.mean([-1], keepdim: true)).rsqrt_().unsqueeze(-1);
                var colFactor = col.unsqueeze(-2).rsqrt();
                update = rowFactor.mul(colFactor).mul_(grad);
            }
            else
            {
                var v = StateOf(i, "exp_avg_sq", () => zeros_like(grad));
                v.mul_(Held(beta2t)).add_(update, Held(1 - beta2t));
                update = v.rsqrt().mul_(grad);
            }
            update.div_(Rms(update).div_(Held(clipThreshold)).clamp_min_(Held(1.0))).mul_(Held(lr));
            if (beta1 is { } b1)
            {
                var m = StateOf(i, "exp_avg", () => zeros_like(grad));
                m.mul_(Held(b1)).add_(update, Held(1 - b1));
                update = m;
            }
            if (weightDecay != 0) p.add_(p, Held(-weightDecay * lr));
            p.add_(update.to(p.dtype), Held(-1));
        }
    }
}
