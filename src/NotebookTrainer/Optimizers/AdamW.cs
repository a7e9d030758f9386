using static TorchSharp.torch;

namespace NotebookTrainer.Optimizers;

/// <summary>torch.optim.AdamW (decoupled weight decay, bias-corrected moments). kohya defaults: betas (0.9, 0.999), eps 1e-8, weight_decay 0.01.</summary>
public sealed class AdamW : Optimizer
{
    readonly double beta1, beta2, eps, weightDecay;

    public AdamW(IReadOnlyList<ParameterGroup> groups, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0.01, string name = "AdamW")
        : base(groups)
    {
        (this.beta1, this.beta2, this.eps, this.weightDecay) = (beta1, beta2, eps, weightDecay);
        Name = name;
    }

    public override string Name { get; }

    protected override void StepCore()
    {
        var step = StepCount;
        var bias1 = 1 - Math.Pow(beta1, step);
        var bias2Sqrt = Math.Sqrt(1 - Math.Pow(beta2, step));
        foreach (var (group, i, p, grad) in ParametersWithGradients())
        {
            var lr = group.LearningRate;
            var m = StateOf(i, "exp_avg", () => zeros_like(p));
            var v = StateOf(i, "exp_avg_sq", () => zeros_like(p));
            p.mul_(Held(1 - lr * weightDecay));
            m.mul_(Held(beta1)).add_(grad, Held(1 - beta1));
            v.mul_(Held(beta2)).addcmul_(grad, grad, Held(1 - beta2));
            var denom = v.sqrt().div_(Held(bias2Sqrt)).add_(Held(eps), Held(1));
            p.addcdiv_(m, denom, Held(-lr / bias1));
        }
    }
}
